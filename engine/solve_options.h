// What to solve: the algorithm, the time span, what to save and how accurately.
#ifndef ENSOLVE_ENGINE_SOLVE_OPTIONS_H_
#define ENSOLVE_ENGINE_SOLVE_OPTIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/algorithms/table.h"

namespace ensolve {

enum class Precision : uint8_t { kFloat32, kFloat64 };

// A name of the algorithm table (engine/algorithms/table.h), case-sensitive.
absl::StatusOr<Algorithm> ParseAlgorithm(std::string_view name);
const char* AlgorithmName(Algorithm a);
// Whether the algorithm has an embedded error estimate (may run adaptively).
bool IsAdaptiveCapable(Algorithm a);
const char* PrecisionName(Precision p);

struct SolveOptions {
  Algorithm algorithm = Algorithm::kTsit5;
  Precision precision = Precision::kFloat64;
  double t0 = 0.0;
  double t1 = 1.0;
  // t1 < t0 integrates backward in time.
  // Times to save at, in the direction of integration (ascending, or descending when
  // t1 < t0), between t0 and t1. Empty: save the final state only.
  std::vector<double> saveat;
  // Adaptive step control (ignored by fixed-step runs).
  bool adaptive = true;
  double abstol = 1e-6;
  double reltol = 1e-3;
  // Fixed-step runs: the step (required, > 0). Adaptive runs: the initial step (0 = pick
  // one automatically).
  double dt = 0.0;
  // Adaptive runs stop with kDtBelowMin when the step would fall below this (0 = a few ulps
  // of t).
  double dtmin = 0.0;
  // Steps (accepted + rejected) per trajectory before stopping with kMaxSteps.
  int64_t max_steps = 1000000;
  // Spans may instead be given per trajectory, with each batch's inputs (BatchInputs::t0,
  // t1, saveat): t0, t1 and saveat above then hold only what is shared, ValidateOptions
  // leaves the span to the caller (ValidateSpan for each trajectory), and with per-
  // trajectory save times saveat is empty and each trajectory saves at
  // saveat_per_trajectory times of its own.
  bool span_per_trajectory = false;
  int saveat_per_trajectory = 0;
  // What each save point holds: these states and named outputs of the model, in this order
  // (Model::SelectionRoots); empty: every state. Only the selection is computed, stored
  // and returned.
  std::vector<std::string> outputs;
};

// Checks the options against each other (the span unless it is per trajectory, dt > 0 for
// fixed-step runs, positive tolerances, ...). INVALID_ARGUMENT names the field.
absl::Status ValidateOptions(const SolveOptions& options);

// Checks one trajectory's span: finite t0 != t1, and `num_save` save times strictly
// ordered in the direction of integration within [t0, t1]. INVALID_ARGUMENT names the
// field ("t1: ...", "saveat[3]: ...").
absl::Status ValidateSpan(double t0, double t1, const double* saveat, int num_save);

// Values per save point: outputs.size(), or the model's num_states when it is empty.
inline int NumSaved(const SolveOptions& o, int num_states) {
  return o.outputs.empty() ? num_states : static_cast<int>(o.outputs.size());
}

// Save times per trajectory: saveat_per_trajectory or saveat.size() (0: the final state).
inline int NumSaveTimes(const SolveOptions& o) {
  return o.saveat_per_trajectory > 0 ? o.saveat_per_trajectory : static_cast<int>(o.saveat.size());
}

// Number of save points per trajectory: NumSaveTimes, or 1 when there are none (the final
// state).
inline int NumSavePoints(const SolveOptions& o) {
  return NumSaveTimes(o) == 0 ? 1 : NumSaveTimes(o);
}

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_SOLVE_OPTIONS_H_
