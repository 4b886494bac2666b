// JobWatchStream: the reactor of a WatchJob call, and of a Solve that attaches to a kept
// detached job by its request_id. It sends a DetachedJob's kept messages from an offset
// on, one write at a time, waiting for more while the job runs, and ends as WatchJob says
// (proto/ensolve/v1/solver.proto): with the job's status after its last message, or with
// OK when everything kept was sent and the job is paused for room.
//
// Lifetime: OnDone removes it from the job's watchers and drops gRPC's reference; the last
// reference (gRPC's, or a notification's in progress) deletes it.
#ifndef ENSOLVE_SERVER_JOB_WATCH_H_
#define ENSOLVE_SERVER_JOB_WATCH_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ensolve/v1/solver.grpc.pb.h"
#include "server/detached_jobs.h"
#include "server/service.h"

namespace ensolve::server {

class JobWatchStream final : public grpc::ServerWriteReactor<v1::SolveResponse>, public JobWatcher {
 public:
  // Streams `job` from `from_offset` on; `method` names the call in metrics and logs.
  JobWatchStream(ServiceContext* ctx, const char* method, std::shared_ptr<DetachedJob> job,
                 int64_t from_offset);
  // Ends at once with `status` (the watch could not start).
  JobWatchStream(ServiceContext* ctx, const char* method, const absl::Status& status);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;
  void OnJobMessages() override;

 private:
  // Starts the next write, or finishes, unless a write is in flight. Without mu_ held.
  void Pump();
  void End(const grpc::Status& status);

  ServiceContext* const ctx_;
  const char* const method_;
  const std::shared_ptr<DetachedJob> job_;
  const absl::Time start_;
  absl::Mutex mu_;
  int64_t offset_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const v1::SolveResponse> in_flight_ ABSL_GUARDED_BY(mu_);
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_JOB_WATCH_H_
