// CompilePool: where model text is parsed and compiled (CompileModel, and Solve when its
// model is not cached), on a few threads of its own and never on gRPC's: a 256 KiB model
// takes seconds, and a gRPC thread blocked that long stalls health checks and every other
// call.
//
// Bounded: at most `max_queued` tasks wait (and at most `max_queued_per_tenant` of one
// tenant); more is RESOURCE_EXHAUSTED at once. Waiting tasks run smallest cost first (the
// cost is the model's source size, which bounds its parse time), and one thread is kept
// for small tasks (cost <= small_cost), so a small model never waits behind a storm of
// huge ones.
//
// Thread-safety: every method is safe to call concurrently.
#ifndef ENSOLVE_SERVER_COMPILE_POOL_H_
#define ENSOLVE_SERVER_COMPILE_POOL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace ensolve::server {

class CompilePool {
 public:
  struct Options {
    int threads = 2;                 // --compile_threads
    int max_queued = 16;             // --compile_queue
    int max_queued_per_tenant = 8;   // --tenant_compile_queue
    int64_t small_cost = 16 * 1024;  // tasks this cheap may use the reserved thread
  };
  // A task is called once: with OK on a pool thread, or with UNAVAILABLE from Stop() if it
  // never started. It must finish its call either way.
  using Task = absl::AnyInvocable<void(absl::Status)>;

  explicit CompilePool(Options options);
  ~CompilePool();  // Stop()s

  // Queues `task`. RESOURCE_EXHAUSTED (the task is dropped uncalled) when the queue, or
  // this tenant's share of it, is full; UNAVAILABLE after Stop().
  absl::Status Submit(const std::string& tenant, int64_t cost, Task task);
  // Calls every waiting task with UNAVAILABLE, lets running ones finish, joins the threads.
  void Stop();

  int queued() const;
  int running() const;

 private:
  struct Item {
    int64_t cost;
    uint64_t seq;
    std::string tenant;
    Task task;
  };
  void Run(bool small_only);
  // The index in queue_ of the task to run next (smallest cost, then oldest), or -1.
  int PickLocked(bool small_only) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  std::vector<std::thread> threads_;
  mutable absl::Mutex mu_;
  absl::CondVar work_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Item> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> queued_by_tenant_ ABSL_GUARDED_BY(mu_);
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_COMPILE_POOL_H_
