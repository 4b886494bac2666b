#include "engine/cuda/internal/pinned_pool.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace ensolve::cuda {
namespace {

constexpr size_t kGranule = size_t{2} << 20;  // blocks are whole multiples of 2 MiB

}  // namespace

absl::StatusOr<std::shared_ptr<PinnedPool>> PinnedPool::Create(const Driver* d, CUdevice dev,
                                                               size_t max_cached_bytes) {
  CUcontext ctx = nullptr;
  CU_RETURN_IF_ERROR(*d, cuDevicePrimaryCtxRetain, &ctx, dev);
  return std::shared_ptr<PinnedPool>(new PinnedPool(d, dev, ctx, max_cached_bytes));
}

PinnedPool::~PinnedPool() {
  // Every lent block holds a reference to the pool, so all of them are back by now.
  for (auto& [capacity, cached] : free_) Free(cached.p);
  d_->cuDevicePrimaryCtxRelease(dev_);
}

std::shared_ptr<void> PinnedPool::Get(size_t bytes, bool* pinned) {
  const size_t want = (std::max<size_t>(bytes, 1) + kGranule - 1) / kGranule * kGranule;
  void* p = nullptr;
  size_t capacity = 0;
  {
    absl::MutexLock lock(&mu_);
    // The smallest cached block that fits, unless it is much larger than asked for.
    auto it = free_.lower_bound(want);
    if (it != free_.end() && it->first <= 2 * want + kGranule) {
      capacity = it->first;
      p = it->second.p;
      free_.erase(it);
      stats_.cached_bytes -= capacity;
      ++stats_.reuses;
    }
  }
  if (p == nullptr) {
    CUresult r = d_->cuCtxPushCurrent(ctx_);
    if (r == CUDA_SUCCESS) {
      r = d_->cuMemAllocHost(&p, want);
      CUcontext popped;
      d_->cuCtxPopCurrent(&popped);
    }
    if (r != CUDA_SUCCESS) {
      p = nullptr;
    } else {
      capacity = want;
      absl::MutexLock lock(&mu_);
      ++stats_.pinned_allocations;
    }
  }
  if (p == nullptr) {
    // Out of pinned memory (or no context): plain heap memory still works, copies into it
    // are just slower.
    {
      absl::MutexLock lock(&mu_);
      ++stats_.heap_fallbacks;
    }
    if (pinned != nullptr) *pinned = false;
    return std::shared_ptr<void>(new char[want], std::default_delete<char[]>());
  }
  if (pinned != nullptr) *pinned = true;
  return std::shared_ptr<void>(
      p, [self = shared_from_this(), capacity](void* q) { self->Return(q, capacity); });
}

void PinnedPool::Return(void* p, size_t capacity) {
  std::vector<void*> evicted;
  {
    absl::MutexLock lock(&mu_);
    if (capacity > max_cached_) {
      evicted.push_back(p);
    } else {
      while (stats_.cached_bytes + capacity > max_cached_) {
        auto oldest = free_.begin();
        for (auto it = free_.begin(); it != free_.end(); ++it) {
          if (it->second.returned < oldest->second.returned) oldest = it;
        }
        evicted.push_back(oldest->second.p);
        stats_.cached_bytes -= oldest->first;
        free_.erase(oldest);
      }
      free_.emplace(capacity, Cached{p, ++returns_});
      stats_.cached_bytes += capacity;
    }
  }
  for (void* q : evicted) Free(q);  // outside the lock: cuMemFreeHost is slow
}

void PinnedPool::Free(void* p) {
  if (d_->cuCtxPushCurrent(ctx_) != CUDA_SUCCESS) return;  // leaked: the context is gone
  d_->cuMemFreeHost(p);
  CUcontext popped;
  d_->cuCtxPopCurrent(&popped);
}

PinnedPool::Stats PinnedPool::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace ensolve::cuda
