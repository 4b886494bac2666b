// StreamWatchdog: one thread that looks at every open Solve stream a few times a second,
// for the limits that need a clock: a stream its client has not read for longer than
// --stream_unread_timeout, and a job running longer than --max_job_time. What to do is the
// stream's business (Watched::CheckDeadlines).
//
// Thread-safety: every method is safe to call concurrently. Remove() returns only after
// any CheckDeadlines() call on that stream has returned, and no call starts after it.
#ifndef ENSOLVE_SERVER_STREAM_WATCHDOG_H_
#define ENSOLVE_SERVER_STREAM_WATCHDOG_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ensolve::server {

class StreamWatchdog {
 public:
  class Watched {
   public:
    virtual ~Watched() = default;
    // Called on the watchdog's thread; must not call Add() or Remove().
    virtual void CheckDeadlines(absl::Time now) = 0;
  };

  explicit StreamWatchdog(absl::Duration period = absl::Milliseconds(200));
  ~StreamWatchdog();  // Stop()s

  void Add(Watched* w);
  void Remove(Watched* w);
  void Stop();

 private:
  void Run();
  const absl::Duration period_;
  absl::Mutex mu_;
  absl::CondVar changed_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<Watched*> watched_ ABSL_GUARDED_BY(mu_);
  Watched* checking_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_STREAM_WATCHDOG_H_
