// FairQueue: which job's next task (a batch, or the next slice of one) a free device takes.
// The queueing policy alone, apart from the scheduler's worker threads and devices.
//
// Tenants are served by deficit round robin (Shreedhar & Varghese, "Efficient fair queueing
// using deficit round robin", SIGCOMM 1995) in trajectory-work: the cost of a task is its
// trajectories times the steps each is expected to take, estimated from what the job has
// measured so far and settled against the work the task really did once it returns
// (Settle). Each round a tenant's deficit grows by quantum x weight; it is served while its
// deficit covers the cost of its next task. Rounds in which nobody could be served are
// skipped arithmetically, so one very expensive task costs one Pick, not many laps.
//
//   - Weights: over time tenants that keep work queued get work in proportion to their
//     weights, whatever their tasks' sizes.
//   - Priority levels: a ready tenant of a higher level is always served before any of a
//     lower one (lower levels wait; they bank nothing meanwhile).
//   - Work conserving: a tenant alone (or alone ready) gets every device.
//   - No banking: a tenant with nothing ready (its reader holds its jobs back, or it has
//     no queued work) keeps no positive deficit, so coming back it cannot burst past the
//     others; a debt (a task that did more work than estimated) is kept until repaid. A
//     refund (a task that did less) repays debt but never becomes credit: credit would
//     let the tenant served last go on past its share (an estimate far too high, such as
//     a long batch charged in full before the device's rate was known, would hold the
//     devices for many tasks). An overestimate therefore costs its tenant; estimates come
//     from measured steps, so only a job's first batch can be far off.
//   - Within a tenant, its ready jobs take turns task by task (round robin).
//
// Not thread-safe: the scheduler calls it under its own mutex.
#ifndef ENSOLVE_SERVER_FAIR_QUEUE_H_
#define ENSOLVE_SERVER_FAIR_QUEUE_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"

namespace ensolve::server {

// A tenant's share (from the tokens file, tenant.h).
struct SharePolicy {
  double weight = 1;  // > 0
  int priority = 0;   // higher is served first
};

class FairQueue {
 public:
  using JobKey = const void*;

  // Queues a job of `tenant`. The policy given last for a tenant is its policy from then on
  // (tokens reloaded with new weights apply to the next job).
  void Add(JobKey job, const std::string& tenant, SharePolicy policy);
  // Forgets a job (finished or cancelled). A tenant without jobs is forgotten too.
  void Remove(JobKey job);

  // The job whose next task runs now, among those `ready` accepts, charging `cost(job)`
  // (> 0, in work units) to its tenant; nullopt when no job is ready.
  std::optional<JobKey> Pick(absl::FunctionRef<bool(JobKey)> ready,
                             absl::FunctionRef<double(JobKey)> cost);
  // A task of `job` charged `charged` did `actual` work: its tenant's deficit takes the
  // difference (a refund only repays debt). A job already removed settles nothing.
  void Settle(JobKey job, double charged, double actual);

  // For tests and metrics.
  double deficit(const std::string& tenant) const;
  int num_tenants() const { return static_cast<int>(ring_.size()); }

 private:
  struct Tenant {
    std::string name;
    SharePolicy policy;
    double deficit = 0;
    std::deque<JobKey> jobs;  // round-robin order
  };
  // The tenant's first ready job in its round-robin order, or null.
  static const JobKey* FirstReady(const Tenant& t, absl::FunctionRef<bool(JobKey)> ready);

  std::vector<Tenant> ring_;  // service order (new tenants join at the end)
  size_t next_ = 0;           // the tenant visited next; the one before it was served last
  absl::flat_hash_map<JobKey, std::string> tenant_of_;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_FAIR_QUEUE_H_
