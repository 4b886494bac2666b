// The unit of work a backend solves: a contiguous range of trajectories of one ensemble,
// with their inputs, and what comes back.
#ifndef ENSOLVE_ENGINE_BATCH_H_
#define ENSOLVE_ENGINE_BATCH_H_

#include <cstdint>
#include <optional>

#include "engine/host_array.h"
#include "engine/reduction.h"
#include "engine/solve_options.h"

namespace ensolve {

class Sampler;
struct BatchResult;

// Per-trajectory outcome. Values are part of the wire format (proto RetCode mirrors them).
enum class RetCode : uint8_t {
  kSuccess = 0,
  kMaxSteps = 1,    // max_steps exhausted before t1
  kDtBelowMin = 2,  // adaptive step fell below dtmin
  kUnstable = 3,    // a state became NaN or Inf
  kTerminated = 4,  // an event terminated the trajectory (t_final: the event time)
  kSingular = 5,    // a fixed-step implicit method met a singular iteration matrix
};
inline constexpr int kNumRetCodes = 6;
static_assert(kNumRetCodes <= kReductionRetCodes, "a Reduction counts every return code");
const char* RetCodeName(RetCode r);

// Inputs of `count` trajectories, row-major float64. Each of u0 and p holds either one row
// shared by all trajectories (rows == 1) or one row per trajectory (rows == count).
//
// Either input may instead come from a sampler (engine/sampler.h) of the model's number of
// states (parameters): row k of the batch is then sampler->Value(first + k, d), where
// `first` is the batch's first trajectory in the whole ensemble, and the input's pointer
// and rows are ignored. A backend draws the values where it likes (the CUDA backend draws
// grid and uniform samples on the device); they are bitwise the sampler's either way.
struct BatchInputs {
  int64_t count = 0;
  const double* u0 = nullptr;
  int64_t u0_rows = 1;
  const double* p = nullptr;  // may be null when the model has no parameters
  int64_t p_rows = 1;
  const Sampler* u0_sampler = nullptr;
  const Sampler* p_sampler = nullptr;
  int64_t first = 0;  // the ensemble index of trajectory 0 of the batch (for samplers)
  // SDE solves: the seed of the generator (engine/algorithms/philox.h), which draws
  // trajectory k's Wiener increments keyed by (seed, first + k, step): the same for any
  // batching.
  uint64_t seed = 0;
  // Per-trajectory spans (SolveOptions::span_per_trajectory), each null where the options'
  // value is shared: t0[k] and t1[k] for trajectory k, and its save times at
  // saveat[k * options.saveat_per_trajectory ...]. Already validated (ValidateSpan).
  const double* t0 = nullptr;
  const double* t1 = nullptr;
  const double* saveat = nullptr;
  // Slices: with slice_seconds > 0, a backend that supports them (the CPU's) stops after
  // about that long and leaves the trajectories it has not finished resumable in the
  // result (BatchResult::resume). A later call for the same batch with `resume` pointing
  // at that result takes it over and continues them, bitwise as if never stopped.
  double slice_seconds = 0;
  BatchResult* resume = nullptr;
  // Statistics across the batch's trajectories (engine/reduction.h), computed where the
  // batch runs, into BatchResult::reduction; null: none. Without spec->keep_states the
  // result carries the reduction alone.
  const ReductionSpec* reduction = nullptr;
};

struct TrajectoryStats {
  int32_t accepted = 0;
  int32_t rejected = 0;
  int32_t rhs_evals = 0;
};

// Where the trajectories of a sliced batch stand (BatchInputs::slice_seconds): finished,
// suspended (with the integrator's scalars, counters and vectors to continue from), or not
// started. Trajectories are handed out in order, so at most `capacity` (the backend's
// lanes) are suspended at once; their data lives in slots. A call reads the trajectories
// it resumes from the slot set `from` and suspends into the other, then the sets swap.
// Empty when the batch was not sliced.
struct ResumeState {
  enum Status : uint8_t { kFinished = 0, kSuspended = 1, kNotStarted = 2 };
  int values_per_trajectory = 0;
  int capacity = 0;
  int from = 0;
  HostArray<uint8_t> status;       // [count]
  HostArray<int32_t> slot;         // [count]: a suspended trajectory's slot
  HostArray<double> scalars[2];    // [capacity][4]: t, h, log(qold), fixed steps taken
  HostArray<int32_t> counters[2];  // [capacity][kCounters]: accepted, rejected, rhs_evals,
                                   // next save, events fired, restart (integrate.h)
  HostArray<double> values[2];     // [capacity][values_per_trajectory]: the vectors, then
                                   // the parameters when the model's events assign them
  static constexpr int kCounters = 6;

  // Every trajectory not started; `capacity` slots of `values` doubles.
  void Reset(int64_t count, int capacity, int values);
  // Trajectories not finished (0 when the batch was not sliced or is done).
  int64_t Unfinished() const;
};

// Results of one batch. states is row-major [trajectory][save point][state], stored as
// float32 or float64 per `precision` (exactly one of states_f32 / states_f64 is filled);
// save points a trajectory never reached (it stopped early) are NaN.
// The arrays may live in memory a backend lent (pinned staging of a GPU), which it gets
// back when the result is destroyed; a result may be moved to and destroyed on any thread.
struct BatchResult {
  int64_t count = 0;
  int num_save = 0;
  int num_states = 0;
  Precision precision = Precision::kFloat64;
  HostArray<float> states_f32;
  HostArray<double> states_f64;
  HostArray<RetCode> retcodes;
  HostArray<double> t_final;  // the time each trajectory reached (t1 on success)
  HostArray<TrajectoryStats> stats;
  HostArray<int32_t> events_fired;  // [count]: the events each trajectory fired (0 without)
  ResumeState resume;               // for sliced batches
  // With BatchInputs::reduction, once every trajectory is finished. When the states are
  // not kept, count and the shape fields are set and the per-trajectory arrays are empty.
  std::optional<Reduction> reduction;

  double state(int64_t traj, int save, int s) const {
    const int64_t i = (traj * num_save + save) * num_states + s;
    return precision == Precision::kFloat32 ? states_f32[i] : states_f64[i];
  }
  // Allocates every array for `count` trajectories on the heap, uninitialized (the
  // backend writes every element) except events_fired, which starts at 0.
  void Resize(int64_t count, int num_save, int num_states, Precision precision);
};

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_BATCH_H_
