#include "server/tenant_limits.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/client_text.h"

namespace ensolve::server {

TenantLimits::Lease::~Lease() { owner_->Release(tenant_, usage_); }

absl::StatusOr<std::unique_ptr<TenantLimits::Lease>> TenantLimits::Admit(const std::string& tenant,
                                                                         int64_t trajectories,
                                                                         int64_t steps) {
  absl::MutexLock lock(&mu_);
  const Usage now = usage_.contains(tenant) ? usage_.at(tenant) : Usage{};
  auto refuse = [&](const char* what, int64_t has, int64_t adds, int64_t limit, const char* flag) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "tenant '", ClientText(tenant), "' has ", has, " ", what, " admitted and this job adds ",
        adds, ", over its limit of ", limit, " (", flag, "); retry when its other jobs finish"));
  };
  if (limits_.max_jobs > 0 && now.jobs + 1 > limits_.max_jobs) {
    return refuse("jobs", now.jobs, 1, limits_.max_jobs, "--tenant_max_jobs");
  }
  if (limits_.max_trajectories > 0 && now.trajectories + trajectories > limits_.max_trajectories) {
    return refuse("trajectories", now.trajectories, trajectories, limits_.max_trajectories,
                  "--tenant_max_trajectories");
  }
  if (limits_.max_steps > 0 && now.steps + steps > limits_.max_steps) {
    return refuse("trajectory-steps (trajectories x max_steps)", now.steps, steps,
                  limits_.max_steps, "--tenant_max_steps");
  }
  Usage& u = usage_[tenant];
  u.jobs += 1;
  u.trajectories += trajectories;
  u.steps += steps;
  return std::unique_ptr<Lease>(new Lease(this, tenant, Usage{1, trajectories, steps}));
}

TenantLimits::Usage TenantLimits::usage(const std::string& tenant) const {
  absl::MutexLock lock(&mu_);
  auto it = usage_.find(tenant);
  return it == usage_.end() ? Usage{} : it->second;
}

void TenantLimits::Release(const std::string& tenant, const Usage& u) {
  absl::MutexLock lock(&mu_);
  auto it = usage_.find(tenant);
  if (it == usage_.end()) return;
  it->second.jobs -= u.jobs;
  it->second.trajectories -= u.trajectories;
  it->second.steps -= u.steps;
  if (it->second.jobs <= 0) usage_.erase(it);
}

}  // namespace ensolve::server
