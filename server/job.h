// A Solve job: a validated request (JobSpec) and the state shared between the scheduler
// that runs its batches and the stream that sends their results (Job).
#ifndef ENSOLVE_SERVER_JOB_H_
#define ENSOLVE_SERVER_JOB_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/backend.h"
#include "engine/batch.h"
#include "engine/model/model.h"
#include "engine/sampler.h"
#include "engine/solve_options.h"
#include "server/fair_queue.h"
#include "server/reduction_request.h"

namespace ensolve::server {

// Where one input (initial states or parameters) comes from: a dense row-major float64
// table of `rows` rows (1 = shared by all trajectories, else one per trajectory), or a
// sampler. The dense table is empty when the input has no columns.
struct InputSource {
  std::vector<double> values;  // empty (and no sampler): the model's defaults
  int64_t rows = 1;
  std::optional<Sampler> sampler;
};

// A request after validation: everything a device needs, with every default applied.
struct JobSpec {
  std::shared_ptr<const Model> model;
  SolveOptions options;
  int64_t trajectories = 0;
  int64_t batch_size = 0;
  // The ensemble index of trajectory 0 (SolveRequest.first_trajectory): samplers draw
  // trajectory i's values at first_trajectory + i.
  int64_t first_trajectory = 0;
  uint64_t seed = 0;  // SolveRequest.seed: the Wiener increments of SDE solves
  InputSource u0;
  InputSource params;
  std::string request_id;
  // Who sent it and the tenant's share of the devices (tenant.h, fair_queue.h).
  std::string tenant = "default";
  SharePolicy share;
  bool return_inputs = false;  // send the parameters and initial states used with results
  // What each save point is (t1 alone when saveat is empty), when every trajectory shares
  // them; empty when they are per trajectory.
  std::vector<double> save_times;
  // Per-trajectory spans (options.span_per_trajectory): one value, or one row of
  // options.saveat_per_trajectory save times, per trajectory; empty where the options'
  // value is shared.
  std::vector<double> t0, t1, saveat;
  // Forward sensitivities (SolveRequest.sensitivities; server/sensitivities.h): the
  // parameters' names, and the sensitivity model and options the devices solve instead of
  // `model` and `options` (the same options, the output selection expanded). Null: none.
  std::vector<std::string> sensitivities;
  std::shared_ptr<const Model> sensitivity_model;
  SolveOptions sensitivity_options;

  // What the devices solve: the sensitivity model and options, or `model` and `options`.
  const std::shared_ptr<const Model>& solved_model() const {
    return sensitivity_model != nullptr ? sensitivity_model : model;
  }
  const SolveOptions& solved_options() const {
    return sensitivity_model != nullptr ? sensitivity_options : options;
  }

  // SolveRequest.reductions, when asked for.
  std::optional<ReductionRequest> reduction;

  int num_save() const { return NumSavePoints(options); }
  // Whether ResultChunks are sent (not when reductions replace them).
  bool streams_states() const { return !reduction.has_value() || reduction->spec.keep_states; }
  // Quantities per save point: the output selection's, or every state.
  int num_states() const { return NumSaved(options, model->num_states()); }
  int num_sensitivities() const { return static_cast<int>(sensitivities.size()); }
  // Values per save point of a batch result: the quantities and their sensitivities.
  int values_per_save() const { return num_states() * (1 + num_sensitivities()); }
  int64_t num_batches() const { return (trajectories + batch_size - 1) / batch_size; }
  int elem_bytes() const { return options.precision == Precision::kFloat32 ? 4 : 8; }
  int64_t bytes_per_trajectory() const {
    return int64_t{num_save()} * values_per_save() * elem_bytes();
  }
  // Whether trajectories have save times of their own: per-trajectory saveat, or a
  // per-trajectory t1 with only the final state saved.
  bool per_trajectory_save_times() const {
    return !saveat.empty() || (!t1.empty() && options.saveat.empty());
  }
  // Trajectory k's save times (num_save() values) into out.
  void SaveTimesOf(int64_t k, double* out) const;
};

// The inputs of trajectories [first, first + count) of `spec` in engine form. Dense inputs
// point into the JobSpec; sampled ones pass the spec's sampler, which the backend draws
// from (on the device where it can), so the result must not outlive the spec.
BatchInputs MakeBatchInputs(const JobSpec& spec, int64_t first, int64_t count);

// The results of one batch, handed from a device worker to the job's stream.
struct BatchOutput {
  int64_t index = 0;
  int64_t first = 0;
  BatchResult result;
  std::string device;
  double queue_seconds = 0;
  double solve_seconds = 0;
};

// Told when a job has new results or has ended. Called from device worker threads.
class JobListener {
 public:
  virtual ~JobListener() = default;
  virtual void OnJobProgress() = 0;
};

// Thread-safety: the spec is immutable; everything else is guarded by an internal mutex.
// How many batches are dispatched is the scheduler's business (scheduler.h).
class Job {
 public:
  Job(std::string id, JobSpec spec);

  const std::string& id() const { return id_; }
  const JobSpec& spec() const { return spec_; }
  int64_t num_batches() const { return num_batches_; }
  absl::Time admitted() const { return admitted_; }
  // Set when the job is cancelled or failed: a running batch stops early.
  const CancelFlag& cancel_flag() const { return cancel_; }
  void RaiseCancelFlag() { cancel_.store(true); }

  // Consumer side. The listener may be set once; DetachListener() returns only after any
  // OnJobProgress() call in progress has returned, and no call starts after it.
  void SetListener(JobListener* listener);
  void DetachListener();
  // The next finished batch, if any.
  std::optional<BatchOutput> PopResult();
  // Whether every batch's results have been delivered (PopResult may still return some).
  bool AllDelivered() const;
  // The first error of any batch (OK when none).
  absl::Status failure() const;

  // Producer side (device workers).
  void Deliver(BatchOutput output);
  void Fail(absl::Status status);

 private:
  void Notify();

  const std::string id_;
  const JobSpec spec_;
  const int64_t num_batches_;
  const absl::Time admitted_;
  CancelFlag cancel_{false};

  mutable absl::Mutex mu_;
  absl::CondVar idle_;
  std::deque<BatchOutput> ready_ ABSL_GUARDED_BY(mu_);
  int64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  JobListener* listener_ ABSL_GUARDED_BY(mu_) = nullptr;
  int notifying_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_JOB_H_
