// Detached jobs (SubmitJob, WatchJob, CancelJob, ListJobs; docs/api.md, "Detached jobs"):
// jobs that run whether or not their client is connected, with their stream of
// SolveResponses kept on the server until it is acknowledged or the job expires.
//
// A detached job is a Solve call the server makes to itself, through an in-process channel,
// with the submitter's credentials: the same admission, budgets, scheduling and messages as
// any Solve, and nothing of it written twice. Its reader (DetachedJob) keeps each message it
// receives, numbered from 0 (the SolveAccepted) in arrival order; watchers are sent those
// from any kept offset on.
//
// Bounds: a job's kept messages take at most `job_bytes` and are reserved in the tenant's
// MemoryBudget account before more are read; at the bound the reader stops reading, the
// Solve's backpressure pauses the job (no further batches run), and a watch from a later
// offset (an acknowledgement: the messages before it are dropped) lets it go on. The
// internal Solve is exempt from the unread-stream timeout (it is paused by design) but not
// from --max_job_time. A tenant keeps at most `max_jobs_per_tenant` jobs; an ended job and
// its messages are dropped `ttl` after it ended. Jobs live in memory: a server that stops
// loses them (drain lets running ones finish first).
//
// Spilled (a SpillFolder set): each message after the SolveAccepted is written to the job's
// own SpillFile and dropped from memory, where only its (offset, size) stays and counts;
// the job pauses at `spill_bytes` on disk or the folder's total bound instead of at
// `job_bytes`, and acknowledged messages are reclaimed from the file. A write that fails
// switches the job to memory: that message and later ones are kept there within
// `job_bytes`; if that message does not fit, the job fails with the write's error. The
// file is removed when the job expires or the store stops.
//
// Thread-safety: every method may be called from any thread.
#ifndef ENSOLVE_SERVER_DETACHED_JOBS_H_
#define ENSOLVE_SERVER_DETACHED_JOBS_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ensolve/v1/solver.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/memory_budget.h"
#include "server/spill_file.h"

namespace ensolve::server {

// Told that a job has kept more messages, paused, or ended; called without the job's lock.
// Reference counted: a notification in progress holds a reference, so a watcher that is
// done (it called RemoveWatcher) is deleted by its last Unref, never under a notification.
class JobWatcher {
 public:
  virtual void OnJobMessages() = 0;
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 protected:
  virtual ~JobWatcher() = default;

 private:
  std::atomic<int> refs_{1};  // the owner's
};

class DetachedJobs;

// One detached job: the reader of its internal Solve call and the messages it kept.
class DetachedJob final : public grpc::ClientReadReactor<v1::SolveResponse> {
 public:
  using Accepted = std::function<void(absl::StatusOr<v1::SolveAccepted>)>;
  // What a watcher at some offset gets next.
  struct Next {
    std::shared_ptr<const v1::SolveResponse> message;  // the message at the offset, if kept
    bool finished = false;  // nothing more comes at this offset: end the watch with status
    grpc::Status status;    // when finished: the job's status, or OK when it is paused
  };

  // `slot_bytes` is reserved in `memory` ahead of each read (and in its spill file, when
  // `spill` is not null).
  DetachedJob(DetachedJobs* store, std::string tenant, std::string request_id, int64_t trajectories,
              int64_t job_bytes, int64_t slot_bytes, std::unique_ptr<MemoryAccount> memory,
              std::shared_ptr<SpillFolder> spill, int64_t spill_bytes);

  const std::string& tenant() const { return tenant_; }
  const std::string& request_id() const { return request_id_; }
  // Empty until the SolveAccepted arrived.
  std::string id() const;

  // The message at `offset`; when there is none yet, `watcher` (if not null) is told once
  // there is something new.
  Next Get(int64_t offset, JobWatcher* watcher);
  // A watch from `offset`: drops the messages before it. OUT_OF_RANGE when they were
  // dropped already or `offset` is past the messages kept.
  absl::Status Acknowledge(int64_t offset);
  // After it, `watcher` is not told again.
  void RemoveWatcher(JobWatcher* watcher);
  void Cancel();
  v1::JobInfo Info(absl::Time now, absl::Duration ttl) const;
  // Whether it ended more than `ttl` before `now`.
  bool Expired(absl::Time now, absl::Duration ttl) const;

  // The reader (gRPC's reactions).
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  friend class DetachedJobs;
  struct Kept {
    std::shared_ptr<const v1::SolveResponse> message;  // null when it is in the spill file
    SpillFile::Extent extent;                          // where it is in the spill file
    int64_t bytes;                                     // its size
    int64_t reserved;                                  // what it holds in the memory account
  };
  // Whether the next message may be read (its slot reserved): the kept ones leave room in
  // the job's bound and the tenant's memory account. If not, the job pauses: a hold keeps
  // the call from ending unseen until Acknowledge() reads again or Cancel() lets it go.
  bool ReadOrPauseLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tells the watchers; called without mu_.
  void NotifyWatchers();
  // OnReadDone's part: a new message of `size` bytes was read (written to `extent` of the
  // spill file when `written` is OK). Returns whether to read on.
  bool KeepLocked(std::shared_ptr<const v1::SolveResponse> message, int64_t size, bool to_disk,
                  const absl::StatusOr<SpillFile::Extent>& written)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Get's part for a message in memory (or none), under mu_.
  Next GetLocked(int64_t offset, JobWatcher* watcher) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The message at `offset`, read back from `extent` of `file` (null: removed).
  static Next ReadBack(const std::shared_ptr<SpillFile>& file, SpillFile::Extent extent,
                       int64_t offset);
  // The file is removed (expiry, stop); watchers of spilled messages get UNAVAILABLE.
  void RemoveSpill();

  DetachedJobs* const store_;
  const std::string tenant_;
  const std::string request_id_;
  const int64_t trajectories_;
  const int64_t job_bytes_;
  const int64_t slot_reserve_;
  const std::shared_ptr<SpillFolder> spill_folder_;  // null: kept in memory
  const int64_t spill_bytes_;
  const absl::Time submitted_;
  grpc::ClientContext call_;
  v1::SolveRequest request_;
  v1::SolveResponse incoming_;  // the read in progress
  // Keeps the job alive while its call runs (released in OnDone).
  std::shared_ptr<DetachedJob> self_;

  mutable absl::Mutex mu_;
  std::unique_ptr<MemoryAccount> memory_ ABSL_GUARDED_BY(mu_);
  std::optional<v1::SolveAccepted> accepted_ ABSL_GUARDED_BY(mu_);  // set once
  // Called once with the SolveAccepted or the admission error (DetachedJobs::Submit).
  std::vector<Accepted> on_accepted_ ABSL_GUARDED_BY(mu_);
  std::deque<Kept> kept_ ABSL_GUARDED_BY(mu_);
  int64_t first_offset_ ABSL_GUARDED_BY(mu_) = 0;       // the offset of kept_.front()
  int64_t kept_bytes_ ABSL_GUARDED_BY(mu_) = 0;         // in memory and on disk
  int64_t memory_kept_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // of messages kept in memory
  std::shared_ptr<SpillFile> spill_ ABSL_GUARDED_BY(mu_);
  bool spill_broken_ ABSL_GUARDED_BY(mu_) = false;            // a write failed: memory from now on
  bool disk_slot_ ABSL_GUARDED_BY(mu_) = false;               // the read in progress goes to spill_
  std::optional<grpc::Status> failure_ ABSL_GUARDED_BY(mu_);  // it failed itself (a write)
  int64_t slot_bytes_ ABSL_GUARDED_BY(mu_) = 0;               // reserved for the read in progress
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;  // no read in progress; a hold is kept
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool succeeded_ ABSL_GUARDED_BY(mu_) = false;  // its summary arrived
  absl::Time ended_at_ ABSL_GUARDED_BY(mu_);
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  std::vector<JobWatcher*> watchers_ ABSL_GUARDED_BY(mu_);
};

class DetachedJobs {
 public:
  struct Options {
    absl::Duration ttl = absl::Hours(1);
    int64_t job_bytes = int64_t{256} << 20;
    int max_jobs_per_tenant = 64;
    int64_t max_message_bytes = int64_t{4} << 20;  // reserved ahead of each read
    int64_t spill_bytes = int64_t{4} << 30;        // on disk per job, with a spill folder
  };
  DetachedJobs(Options options, MemoryBudget* memory);
  ~DetachedJobs();

  // The channel to this server's own service; set once the server is built.
  void SetChannel(std::shared_ptr<grpc::Channel> channel);
  // Jobs submitted from now on keep their messages in `folder` (before serving).
  void SetSpillFolder(std::shared_ptr<SpillFolder> folder);
  // Whether `call` is one of this store's own Solve calls.
  bool IsInternal(const grpc::CallbackServerContext& call) const;

  // Starts `request` as a detached job of `tenant` (`authorization`: the submitter's header
  // value, or null), or finds the kept job of the same request_id. `done` is called once,
  // on any thread, with its SolveAccepted or why it was not admitted.
  void Submit(const std::string& tenant, const std::string* authorization,
              const v1::SolveRequest& request, DetachedJob::Accepted done);
  // The tenant's job (NOT_FOUND for an unknown id or another tenant's).
  absl::StatusOr<std::shared_ptr<DetachedJob>> Find(const std::string& tenant,
                                                    const std::string& job_id);
  // The tenant's kept job of this request_id, or null.
  std::shared_ptr<DetachedJob> FindByRequestId(const std::string& tenant,
                                               const std::string& request_id);
  absl::StatusOr<v1::JobInfo> Cancel(const std::string& tenant, const std::string& job_id);
  std::vector<v1::JobInfo> List(const std::string& tenant);

  // Cancels every running job and waits until their calls are done (before the server's
  // own shutdown completes). Submit afterwards is UNAVAILABLE.
  void Stop();

 private:
  friend class DetachedJob;
  // Submit's part, under mu_: the new job to start, or null with *answer set (or `done`
  // moved to an earlier job of the same request_id that is still being admitted).
  std::shared_ptr<DetachedJob> StartOrAnswer(const std::string& tenant,
                                             const std::string* authorization,
                                             const v1::SolveRequest& request,
                                             DetachedJob::Accepted& done,
                                             absl::StatusOr<v1::SolveAccepted>* answer);
  // Drops ended jobs past the TTL.
  void ExpireLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // From the job: its SolveAccepted arrived (it can be found by id now); its call is done
  // (not accepted: it is forgotten, SubmitJob answered the error).
  void Register(DetachedJob* job);
  void CallDone(DetachedJob* job, bool accepted);

  const Options options_;
  MemoryBudget* const memory_;
  const std::string secret_;  // marks this store's own calls
  mutable absl::Mutex mu_;
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<v1::EnsembleSolver::Stub> stub_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<SpillFolder> spill_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // Every kept job, oldest first; and by id once accepted.
  std::vector<std::shared_ptr<DetachedJob>> jobs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<DetachedJob>> by_id_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;  // calls not done
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_DETACHED_JOBS_H_
