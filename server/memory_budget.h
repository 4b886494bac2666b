// MemoryBudget: byte accounting for what requests make the server hold (decoded inputs,
// batch results buffered for streams, the working arrays of running batches, compile
// work), at three levels: one request, one tenant, the whole server. Bytes are reserved
// from an estimate *before* they are allocated, so a request that would not fit is
// refused with RESOURCE_EXHAUSTED instead of taking the process down.
//
//   std::unique_ptr<MemoryAccount> account = budget.Open("tenant-a");
//   if (absl::Status s = account->Reserve(bytes, "decoded inputs"); !s.ok()) return s;
//   ... // the account releases everything it holds when destroyed
//
// Thread-safety: MemoryBudget is safe to use from any thread. One MemoryAccount belongs to
// one request; its methods may be called from any thread but not concurrently.
#ifndef ENSOLVE_SERVER_MEMORY_BUDGET_H_
#define ENSOLVE_SERVER_MEMORY_BUDGET_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace ensolve::server {

// "3.1 GiB (3355443200 bytes)": sizes in messages.
std::string FormatBytes(int64_t bytes);

// The server budget when none is configured (--memory_budget=0): half of the least of
// physical memory, the cgroup's memory.max, and the address-space limit (ulimit -v) less
// what the process has mapped now. `why` (may be null) says which bound it came from.
int64_t AutoMemoryBudget(std::string* why = nullptr);

class MemoryAccount;

class MemoryBudget {
 public:
  struct Limits {
    int64_t server_bytes = int64_t{8} << 30;   // all requests together (--memory_budget)
    int64_t request_bytes = int64_t{2} << 30;  // one request (--max_request_memory)
    int64_t tenant_bytes = 0;                  // one tenant; 0: no limit of its own
  };
  explicit MemoryBudget(Limits limits) : limits_(limits) {}

  // An account for one request of `tenant`.
  std::unique_ptr<MemoryAccount> Open(std::string tenant);

  const Limits& limits() const { return limits_; }
  int64_t reserved() const;
  int64_t tenant_reserved(absl::string_view tenant) const;

 private:
  friend class MemoryAccount;
  absl::Status Reserve(const std::string& tenant, int64_t request_total, int64_t bytes,
                       absl::string_view what);
  void Release(const std::string& tenant, int64_t bytes);

  const Limits limits_;
  mutable absl::Mutex mu_;
  int64_t reserved_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int64_t> by_tenant_ ABSL_GUARDED_BY(mu_);
};

class MemoryAccount {
 public:
  ~MemoryAccount();
  MemoryAccount(const MemoryAccount&) = delete;
  MemoryAccount& operator=(const MemoryAccount&) = delete;

  // Reserves `bytes` more for `what` (e.g. "decoded inputs"). RESOURCE_EXHAUSTED, with
  // nothing reserved, when this request, its tenant or the server would pass its limit;
  // the message names the limit's flag and the figures.
  absl::Status Reserve(int64_t bytes, absl::string_view what);
  // Gives back `bytes` (at most what is reserved).
  void Release(int64_t bytes);
  int64_t reserved() const { return reserved_; }

 private:
  friend class MemoryBudget;
  MemoryAccount(MemoryBudget* budget, std::string tenant)
      : budget_(budget), tenant_(std::move(tenant)) {}
  MemoryBudget* const budget_;
  const std::string tenant_;
  int64_t reserved_ = 0;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_MEMORY_BUDGET_H_
