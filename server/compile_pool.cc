#include "server/compile_pool.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/client_text.h"

namespace ensolve::server {

CompilePool::CompilePool(Options options) : options_(options) {
  const int n = std::max(1, options_.threads);
  // With two threads or more, the first takes only small tasks.
  for (int i = 0; i < n; ++i) {
    const bool small_only = n > 1 && i == 0;
    threads_.emplace_back([this, small_only] { Run(small_only); });
  }
}

CompilePool::~CompilePool() { Stop(); }

absl::Status CompilePool::Submit(const std::string& tenant, int64_t cost, Task task) {
  absl::MutexLock lock(&mu_);
  if (stopped_) return absl::UnavailableError("the server is shutting down");
  if (static_cast<int>(queue_.size()) >= options_.max_queued) {
    return absl::ResourceExhaustedError(
        absl::StrCat("compile queue full: ", queue_.size(),
                     " models are waiting to be compiled, the limit is ", options_.max_queued,
                     " (--compile_queue); retry later, or send a model the server has "
                     "compiled before"));
  }
  int& of_tenant = queued_by_tenant_[tenant];
  if (of_tenant >= options_.max_queued_per_tenant) {
    return absl::ResourceExhaustedError(
        absl::StrCat("compile queue full for tenant '", ClientText(tenant), "': ", of_tenant,
                     " of its models are waiting to be compiled, the limit is ",
                     options_.max_queued_per_tenant, " (--tenant_compile_queue); retry later"));
  }
  ++of_tenant;
  queue_.push_back(Item{cost, seq_++, tenant, std::move(task)});
  work_.SignalAll();
  return absl::OkStatus();
}

void CompilePool::Stop() {
  std::vector<Item> dropped;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_ && threads_.empty()) return;
    stopped_ = true;
    dropped.swap(queue_);
    queued_by_tenant_.clear();
    work_.SignalAll();
  }
  for (Item& item : dropped) item.task(absl::UnavailableError("the server is shutting down"));
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  absl::MutexLock lock(&mu_);
  threads_.clear();
}

int CompilePool::queued() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(queue_.size());
}

int CompilePool::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

int CompilePool::PickLocked(bool small_only) const {
  int best = -1;
  for (int i = 0; i < static_cast<int>(queue_.size()); ++i) {
    const Item& it = queue_[i];
    if (small_only && it.cost > options_.small_cost) continue;
    if (best < 0 || it.cost < queue_[best].cost ||
        (it.cost == queue_[best].cost && it.seq < queue_[best].seq)) {
      best = i;
    }
  }
  return best;
}

void CompilePool::Run(bool small_only) {
  for (;;) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      int i = -1;
      while (!stopped_ && (i = PickLocked(small_only)) < 0) work_.Wait(&mu_);
      if (stopped_) return;
      Item& item = queue_[i];
      task = std::move(item.task);
      auto t = queued_by_tenant_.find(item.tenant);
      if (t != queued_by_tenant_.end() && --t->second <= 0) queued_by_tenant_.erase(t);
      queue_.erase(queue_.begin() + i);
      ++running_;
    }
    task(absl::OkStatus());
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace ensolve::server
