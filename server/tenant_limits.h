// TenantLimits: how much one tenant may have admitted at once: jobs, trajectories (queued
// and running: everything admitted and unfinished) and trajectory-steps (the compute
// budget: trajectories x max_steps of each job). A tenant past a limit gets
// RESOURCE_EXHAUSTED naming it; other tenants are not affected. Buffered bytes per tenant
// are MemoryBudget's (--tenant_max_memory).
//
// Thread-safety: every method is safe to call concurrently.
#ifndef ENSOLVE_SERVER_TENANT_LIMITS_H_
#define ENSOLVE_SERVER_TENANT_LIMITS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace ensolve::server {

class TenantLimits {
 public:
  struct Limits {                  // 0: no limit
    int64_t max_jobs = 0;          // --tenant_max_jobs
    int64_t max_trajectories = 0;  // --tenant_max_trajectories
    int64_t max_steps = 0;         // --tenant_max_steps
  };
  struct Usage {
    int64_t jobs = 0;
    int64_t trajectories = 0;
    int64_t steps = 0;
  };
  // Holds one job's share until destroyed.
  class Lease {
   public:
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    friend class TenantLimits;
    Lease(TenantLimits* owner, std::string tenant, Usage usage)
        : owner_(owner), tenant_(std::move(tenant)), usage_(usage) {}
    TenantLimits* const owner_;
    const std::string tenant_;
    const Usage usage_;
  };

  explicit TenantLimits(Limits limits) : limits_(limits) {}

  // Admits one job of `trajectories` x `steps_per_trajectory` for `tenant`, or says which
  // limit it would pass.
  absl::StatusOr<std::unique_ptr<Lease>> Admit(const std::string& tenant, int64_t trajectories,
                                               int64_t steps);
  Usage usage(const std::string& tenant) const;

 private:
  void Release(const std::string& tenant, const Usage& u);
  const Limits limits_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Usage> usage_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_TENANT_LIMITS_H_
