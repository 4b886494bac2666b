// BatchScheduler: splits admitted jobs into batches and feeds them to one worker thread per
// device. Which job's batch a free device takes is the FairQueue's decision (fair_queue.h):
// tenants share the devices by weight and priority in trajectory-work, and a tenant's jobs
// take turns batch by batch, so a small job admitted behind a large one starts at the next
// free device instead of waiting for the large one to finish.
//
// Work: a task (a batch, or the next slice of one) is charged its trajectories times the
// steps a trajectory of its job took so far (before any batch of the job finished: the
// fixed step count, or kPriorSteps for adaptive runs; a continuation: what its last slice
// did; on a device that slices, at most the steps one slice does at the device's measured
// rate), and settled against the steps (accepted + rejected) it really took.
//
// Backpressure: a job has at most `stream_buffer_batches + number of devices` batches
// dispatched but not yet consumed by its stream (Consumed()); past that it is skipped
// until its client reads. A slow reader therefore pauses its own job and holds a bounded
// amount of memory, while other jobs keep the devices busy.
//
// Slices: on a device whose backend can (the CPU's), a batch runs at most `batch_slice`
// at a time; its unfinished trajectories then wait, as a continuation queued ahead of the
// job's next batch, for the job's next turn, and resume bitwise where they stopped. So a
// small job waits about one slice per device, not one long batch.
//
// Admission counts the trajectories of admitted, unfinished jobs against
// max_queued_trajectories, except those of jobs held back by their reader: a job whose
// client does not read waits for its client, not for a device, so idle streams cannot fill
// the queue and lock everyone out (--stream_unread_timeout then cancels them). A held job
// that resumes counts again, so the figure may pass the limit for a while.
//
// Cancellation: Cancel() drops a job's queued batches at once and raises its cancel flag,
// which stops running batches within about one step.
//
// Faults: a batch that fails with a device fault (INTERNAL, UNKNOWN, UNAVAILABLE, ABORTED,
// DATA_LOSS from its backend: a CUDA error, an injected fault) runs once more, from its
// start, on another device in service; failing there too fails its job (only its job). A
// device that fails kFailuresOutOfService batches in a row is taken out of service (no
// more batches; GetServerInfo says "out_of_service", ensolve_device_in_service 0); with no
// device left in service, unfinished jobs fail with UNAVAILABLE and Submit refuses. Errors
// of the request itself (INVALID_ARGUMENT, RESOURCE_EXHAUSTED, ...) are not retried.
//
// Thread-safety: every public method is safe to call concurrently.
#ifndef ENSOLVE_SERVER_SCHEDULER_H_
#define ENSOLVE_SERVER_SCHEDULER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/devices.h"
#include "server/fair_queue.h"
#include "server/job.h"
#include "server/metrics.h"

namespace ensolve::server {

// A snapshot of one device, for GetServerInfo.
struct DeviceStatus {
  std::string name;
  std::string kind;
  int threads = 0;
  std::string model;
  int64_t memory_bytes = 0;
  std::string compute_capability;
  bool busy = false;
  bool in_service = true;
  int64_t batches_solved = 0;
  int64_t batches_failed = 0;
  double busy_seconds = 0;
};

class BatchScheduler {
 public:
  // Steps per trajectory assumed for an adaptive job until one of its batches finishes.
  static constexpr double kPriorSteps = 100;
  // Failed batches in a row that take a device out of service.
  static constexpr int kFailuresOutOfService = 3;

  struct Options {
    int stream_buffer_batches = 2;
    int64_t max_queued_trajectories = int64_t{1} << 30;
    absl::Duration batch_slice = absl::ZeroDuration();  // 0: batches run to the end
  };

  // Starts one worker thread per device. `metrics` must outlive the scheduler.
  BatchScheduler(std::vector<Device> devices, Options options, Metrics* metrics);
  // Stop()s and joins the workers.
  ~BatchScheduler();

  // Admits `job` and queues all its batches. RESOURCE_EXHAUSTED when the trajectories of
  // unfinished jobs would pass max_queued_trajectories; UNAVAILABLE after Stop().
  absl::Status Submit(std::shared_ptr<Job> job);
  // Stops dispatching `job`'s batches and raises its cancel flag. Idempotent; returns the
  // number of queued batches dropped by this call.
  int64_t Cancel(Job* job);
  // The job's stream has finished sending one batch, so the job may run another.
  void Consumed(Job* job);
  // Fails every unfinished job with UNAVAILABLE, cancels running batches and joins the
  // workers. Idempotent.
  void Stop();

  int64_t queued_batches() const;
  // Trajectories counted against max_queued_trajectories now.
  int64_t queued_trajectories() const;
  int num_devices() const { return static_cast<int>(workers_.size()); }
  std::vector<DeviceStatus> devices() const;
  std::vector<std::string> device_names() const;

 private:
  struct Worker;
  // A batch some of whose trajectories ran out of their slice: the result so far.
  struct Continuation {
    int64_t index = 0;
    BatchResult partial;
    double solve_seconds = 0;  // device time of its slices so far
    int slices = 0;
    double slice_work = 0;  // steps its last slice took
  };
  // What a worker takes: batch `index` of `job`, fresh or continued.
  struct Task {
    std::shared_ptr<Job> job;
    int64_t index = 0;
    std::optional<Continuation> continuation;
    double charged = 0;                 // the work the fair queue charged for it
    const Worker* failed_on = nullptr;  // a retry: the device it failed on first
  };
  // A batch to run again, from its start, on a device other than `failed_on`.
  struct Retry {
    int64_t index = 0;
    const Worker* failed_on = nullptr;
  };
  struct Entry {
    std::shared_ptr<Job> job;
    int64_t next_batch = 0;  // first batch not dispatched
    int running = 0;         // batches on devices now
    int64_t unconsumed = 0;  // dispatched, results not yet consumed by the stream
    bool cancelled = false;
    std::deque<Continuation> continuations;  // run before the job's next batch
    std::deque<Retry> retries;               // likewise
    int64_t counted = 0;                     // trajectories counted in queued_trajectories_ now
    // Of its finished batches: trajectories and the steps they took.
    int64_t measured_trajectories = 0;
    double measured_steps = 0;
  };

  void Run(Worker* worker);
  // Takes a continuation or the next batch of the job the fair queue picks.
  bool PickLocked(const Worker& w, Task* task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the entry has a task to run now, and what that task is expected to cost.
  bool ReadyLocked(const Entry& e, const Worker& w) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The first of e's retries `w` may run, or null.
  const Retry* RetryFor(const Entry& e, const Worker& w) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After `w` failed a batch of `task` with a device fault: queues it again for another
  // device in service (true), unless it was a retry already or there is none.
  bool RetryElsewhereLocked(const Worker& w, const Task& task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts a failure (ok false) or a success of `w`; takes it out of service after
  // kFailuresOutOfService failures in a row. The jobs to fail because no device is left.
  std::vector<std::shared_ptr<Job>> NoteOutcomeLocked(Worker& w, bool ok)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fails and cancels jobs left without a device (called without mu_).
  void FailStranded(const std::vector<std::shared_ptr<Job>>& jobs);
  double EstimatedWorkLocked(const Entry& e, const Worker& w) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets a job with nothing queued and nothing running.
  void MaybeRetireLocked(Job* job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t CancelLocked(Job* job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts e's trajectories in queued_trajectories_, or none while its reader holds it back.
  void RecountLocked(Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t window() const {
    return options_.stream_buffer_batches + static_cast<int64_t>(workers_.size());
  }
  // Runs the task; the steps it took (null when it failed or was cancelled).
  std::optional<double> SolveBatch(Worker* worker, Task& task);

  const Options options_;
  Metrics* const metrics_;
  std::vector<std::unique_ptr<Worker>> workers_;

  mutable absl::Mutex mu_;
  absl::CondVar work_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<Job*, Entry> entries_ ABSL_GUARDED_BY(mu_);
  FairQueue fair_ ABSL_GUARDED_BY(mu_);  // of entries_' jobs
  int64_t queued_batches_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t queued_trajectories_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_SCHEDULER_H_
