// Pinned (page-locked) host memory of one device, pooled. Copies between the device and
// pinned memory run at the bus's full speed and asynchronously; pinning fresh memory costs
// more than the copies it speeds up, so blocks are reused across batches.
//
// Blocks are lent out as std::shared_ptr<void>: a batch's results live in one, travel with
// its BatchResult to whichever thread sends them, and the block comes back to the pool
// when the last pointer to it dies. The pool retains the device's primary context until
// it and every block it lent are gone, so a block outlives the backend safely.
//
// Thread-safety: thread-safe.
#ifndef ENSOLVE_ENGINE_CUDA_INTERNAL_PINNED_POOL_H_
#define ENSOLVE_ENGINE_CUDA_INTERNAL_PINNED_POOL_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/cuda/internal/driver.h"

namespace ensolve::cuda {

class PinnedPool : public std::enable_shared_from_this<PinnedPool> {
 public:
  // A pool on device `dev` (its primary context is retained for the pool's lifetime)
  // that keeps at most `max_cached_bytes` of returned blocks for reuse: a block coming
  // back evicts the blocks that came back longest ago, so the sizes in use stay cached.
  static absl::StatusOr<std::shared_ptr<PinnedPool>> Create(const Driver* d, CUdevice dev,
                                                            size_t max_cached_bytes);
  ~PinnedPool();
  PinnedPool(const PinnedPool&) = delete;
  PinnedPool& operator=(const PinnedPool&) = delete;

  // A block of at least `bytes` bytes (contents unspecified): pinned, or plain heap memory
  // when pinning fails (`*pinned` says which, when given). It returns to the pool when the
  // last copy of the pointer is destroyed.
  std::shared_ptr<void> Get(size_t bytes, bool* pinned = nullptr);

  struct Stats {
    int64_t pinned_allocations = 0;  // cuMemAllocHost calls
    int64_t reuses = 0;              // Get() answered from the cache
    int64_t heap_fallbacks = 0;      // pinning failed; heap memory lent instead
    size_t cached_bytes = 0;         // returned blocks kept for reuse now
  };
  Stats stats() const;

 private:
  PinnedPool(const Driver* d, CUdevice dev, CUcontext ctx, size_t max_cached_bytes)
      : d_(d), dev_(dev), ctx_(ctx), max_cached_(max_cached_bytes) {}
  void Return(void* p, size_t capacity);
  void Free(void* p);  // cuMemFreeHost under the pool's context

  const Driver* const d_;
  const CUdevice dev_;
  const CUcontext ctx_;
  const size_t max_cached_;

  struct Cached {
    void* p;
    uint64_t returned;  // when it came back (a counter): the oldest goes first
  };
  mutable absl::Mutex mu_;
  std::multimap<size_t, Cached> free_ ABSL_GUARDED_BY(mu_);  // by capacity
  uint64_t returns_ ABSL_GUARDED_BY(mu_) = 0;
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ensolve::cuda

#endif  // ENSOLVE_ENGINE_CUDA_INTERNAL_PINNED_POOL_H_
