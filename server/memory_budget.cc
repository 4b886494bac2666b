#include "server/memory_budget.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/client_text.h"

namespace ensolve::server {

std::string FormatBytes(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (bytes >= (int64_t{1} << 30))
    return absl::StrFormat("%.1f GiB (%d bytes)", b / (1 << 30), bytes);
  if (bytes >= (int64_t{1} << 20))
    return absl::StrFormat("%.1f MiB (%d bytes)", b / (1 << 20), bytes);
  return absl::StrFormat("%d bytes", bytes);
}

namespace {

// A number of bytes from a line "Key:   123 kB" of /proc/self/status; -1 if absent.
int64_t StatusKilobytes(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      return std::strtoll(line.c_str() + std::strlen(key), nullptr, 10) * 1024;
    }
  }
  return -1;
}

}  // namespace

int64_t AutoMemoryBudget(std::string* why) {
  int64_t least = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  std::string from = "physical memory";
  std::ifstream cg("/sys/fs/cgroup/memory.max");
  std::string max;
  if (cg >> max && max != "max") {
    const int64_t v = std::strtoll(max.c_str(), nullptr, 10);
    if (v > 0 && v < least) {
      least = v;
      from = "the cgroup's memory.max";
    }
  }
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    const int64_t mapped = std::max<int64_t>(0, StatusKilobytes("VmSize:"));
    const int64_t v = static_cast<int64_t>(as.rlim_cur) - mapped;
    if (v < least) {
      least = std::max<int64_t>(v, 0);
      from = "the address-space limit (ulimit -v) less what is mapped at start";
    }
  }
  if (why != nullptr) *why = from;
  return std::max<int64_t>(least / 2, 64 << 20);
}

std::unique_ptr<MemoryAccount> MemoryBudget::Open(std::string tenant) {
  return std::unique_ptr<MemoryAccount>(new MemoryAccount(this, std::move(tenant)));
}

int64_t MemoryBudget::reserved() const {
  absl::MutexLock lock(&mu_);
  return reserved_;
}

int64_t MemoryBudget::tenant_reserved(absl::string_view tenant) const {
  absl::MutexLock lock(&mu_);
  auto it = by_tenant_.find(tenant);
  return it == by_tenant_.end() ? 0 : it->second;
}

absl::Status MemoryBudget::Reserve(const std::string& tenant, int64_t request_total, int64_t bytes,
                                   absl::string_view what) {
  if (bytes < 0) bytes = 0;
  // Compared without overflow: every figure is at most ~2^62.
  if (request_total + bytes > limits_.request_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "memory budget: ", what, " need ", FormatBytes(bytes), ", so this request would hold ",
        FormatBytes(request_total + bytes), ", over the per-request limit of ",
        FormatBytes(limits_.request_bytes),
        " (--max_request_memory); use fewer trajectories per batch (batch_size), fewer save "
        "points or outputs, or split the ensemble"));
  }
  absl::MutexLock lock(&mu_);
  int64_t& of_tenant = by_tenant_[tenant];
  if (limits_.tenant_bytes > 0 && of_tenant + bytes > limits_.tenant_bytes) {
    const int64_t held = of_tenant;
    if (of_tenant == 0) by_tenant_.erase(tenant);
    return absl::ResourceExhaustedError(
        absl::StrCat("memory budget: ", what, " need ", FormatBytes(bytes), ", but tenant '",
                     ClientText(tenant), "' already holds ", FormatBytes(held), " of its limit of ",
                     FormatBytes(limits_.tenant_bytes),
                     " (--tenant_max_memory); retry when its other requests have finished"));
  }
  if (reserved_ + bytes > limits_.server_bytes) {
    if (of_tenant == 0) by_tenant_.erase(tenant);
    return absl::ResourceExhaustedError(absl::StrCat(
        "memory budget: ", what, " need ", FormatBytes(bytes), ", but only ",
        FormatBytes(std::max<int64_t>(0, limits_.server_bytes - reserved_)), " of the server's ",
        FormatBytes(limits_.server_bytes), " are free (--memory_budget); retry later"));
  }
  of_tenant += bytes;
  reserved_ += bytes;
  return absl::OkStatus();
}

void MemoryBudget::Release(const std::string& tenant, int64_t bytes) {
  absl::MutexLock lock(&mu_);
  reserved_ -= bytes;
  auto it = by_tenant_.find(tenant);
  if (it == by_tenant_.end()) return;
  it->second -= bytes;
  if (it->second <= 0) by_tenant_.erase(it);
}

MemoryAccount::~MemoryAccount() {
  if (reserved_ > 0) budget_->Release(tenant_, reserved_);
}

absl::Status MemoryAccount::Reserve(int64_t bytes, absl::string_view what) {
  if (bytes <= 0) return absl::OkStatus();
  absl::Status s = budget_->Reserve(tenant_, reserved_, bytes, what);
  if (s.ok()) reserved_ += bytes;
  return s;
}

void MemoryAccount::Release(int64_t bytes) {
  bytes = std::min(bytes, reserved_);
  if (bytes <= 0) return;
  reserved_ -= bytes;
  budget_->Release(tenant_, bytes);
}

}  // namespace ensolve::server
