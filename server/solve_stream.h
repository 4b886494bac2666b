// SolveStream: the reactor of one Solve call. It resolves the caller's tenant, reserves
// the request's memory (MemoryBudget, from RequestCost's estimates, before allocating),
// has its model compiled on the CompilePool when it is not cached (never on a gRPC
// thread), validates the request, checks the compute and tenant limits, admits a Job to
// the scheduler, then streams: SolveAccepted, ResultChunks as batches finish, SolveSummary.
//
// Deadlines (StreamWatchdog): a write its client has not taken for --stream_unread_timeout
// cancels the call (the client is not reading; its job's results would stay buffered and
// its trajectories admitted), except a detached job's (its reader pauses it on purpose); a
// job running past --max_job_time fails with RESOURCE_EXHAUSTED. std::bad_alloc on the way is
// RESOURCE_EXHAUSTED for this call only.
//
// One write is in flight at a time; the next starts from OnWriteDone (or from a device
// worker when a batch finishes while the stream is idle). Each finished batch is cut into
// chunks of at most max_chunk_bytes of states; once its last chunk is written the batch is
// reported Consumed() to the scheduler, which is what lets the job run further batches:
// a slow reader pauses its own job (backpressure).
//
// Lifetime: the reactor deletes itself in OnDone, after detaching from the job (which
// waits for any device-worker callback in progress) and cancelling its remaining batches.
#ifndef ENSOLVE_SERVER_SOLVE_STREAM_H_
#define ENSOLVE_SERVER_SOLVE_STREAM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ensolve/v1/solver.grpc.pb.h"
#include "server/job.h"
#include "server/memory_budget.h"
#include "server/reduction_stream.h"
#include "server/service.h"
#include "server/stream_watchdog.h"
#include "server/tenant_limits.h"

namespace ensolve::server {

class SolveStream final : public grpc::ServerWriteReactor<v1::SolveResponse>,
                          public JobListener,
                          public StreamWatchdog::Watched {
 public:
  SolveStream(ServiceContext* ctx, grpc::CallbackServerContext* call,
              const v1::SolveRequest* request);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;
  void OnJobProgress() override;
  void CheckDeadlines(absl::Time now) override;

 private:
  // Validates the request (its model now compiled or cached), checks the budgets and
  // admits the job; on a pool thread when the model had to be compiled.
  void Admit();
  // Starts the next write, or finishes the call, if nothing is in flight. Must be called
  // without mu_ held (it calls into gRPC outside the lock).
  void Pump();
  // Fills resp_ with the next chunk; false when no results are ready.
  bool NextChunkLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The same, with std::bad_alloc as RESOURCE_EXHAUSTED.
  absl::StatusOr<bool> NextChunkOrOutOfMemoryLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FillSummaryLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The parameters and initial states of trajectories [first, first + rows) into c.
  void AddInputsLocked(v1::ResultChunk* c, int64_t first, int64_t rows)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells the scheduler that n more of the job's batches are sent (its window moves on).
  void ReleaseBatchesLocked(int n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Finishes with `status` without a job (validation or admission failed).
  void Reject(const absl::Status& status);
  void RecordEnd(const grpc::Status& status);
  // Gives back the call's memory reservation and tenant share; once, just before Finish().
  void ReleaseBudgets();

  ServiceContext* const ctx_;
  grpc::CallbackServerContext* const call_;
  const v1::SolveRequest* const request_;  // gRPC's, valid until the call is finished
  const absl::Time start_;
  const bool detached_;  // the call of a detached job (detached_jobs.h)
  std::string tenant_;
  std::unique_ptr<MemoryAccount> memory_;
  int64_t compile_bytes_ = 0;  // reserved while the model compiles
  std::unique_ptr<TenantLimits::Lease> lease_;
  bool watched_ = false;  // set before the first write; read in OnDone

  absl::Mutex mu_;
  // Null until admitted (and when the request was rejected). Set once, under mu_; read
  // without it only by code that runs after admission (writes, job callbacks).
  std::shared_ptr<Job> job_;
  absl::Time write_started_ ABSL_GUARDED_BY(mu_);
  bool deadline_hit_ ABSL_GUARDED_BY(mu_) = false;
  v1::SolveResponse resp_ ABSL_GUARDED_BY(mu_);  // the message being written
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool summary_sent_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<BatchOutput> current_ ABSL_GUARDED_BY(mu_);  // the batch being chunked
  int64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;                  // next row of current_
  // Set at admission when the request asks for reductions.
  std::unique_ptr<ReductionStream> reduce_ ABSL_GUARDED_BY(mu_);
  bool reduction_sent_ ABSL_GUARDED_BY(mu_) = false;  // the final ReductionResult

  // Summary accumulators.
  int64_t retcode_counts_[kNumRetCodes] ABSL_GUARDED_BY(mu_) = {};
  double queue_seconds_ ABSL_GUARDED_BY(mu_) = 0;
  double solve_seconds_ ABSL_GUARDED_BY(mu_) = 0;
  double first_batch_seconds_ ABSL_GUARDED_BY(mu_) = -1;
  int64_t bytes_streamed_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t batches_streamed_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<std::string> devices_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_SOLVE_STREAM_H_
