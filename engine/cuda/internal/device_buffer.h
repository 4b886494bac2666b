// A grow-only device allocation, reused across batches (the backend's memory pool is one
// of these per array it needs).
//
// Thread-safety: none; owned by one backend.
#ifndef ENSOLVE_ENGINE_CUDA_INTERNAL_DEVICE_BUFFER_H_
#define ENSOLVE_ENGINE_CUDA_INTERNAL_DEVICE_BUFFER_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/cuda/internal/driver.h"

namespace ensolve::cuda {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { Release(); }

  // A device pointer to at least `bytes` bytes (contents unspecified). Reallocates only
  // when the buffer is too small, rounding up to a whole MiB.
  absl::StatusOr<CUdeviceptr> Reserve(const Driver* d, size_t bytes, const char* what) {
    if (bytes <= capacity_ && ptr_ != 0) return ptr_;
    Release();
    d_ = d;
    const size_t mib = size_t{1} << 20;
    const size_t want = (bytes + mib - 1) / mib * mib;
    const CUresult r = d->cuMemAlloc(&ptr_, want == 0 ? mib : want);
    if (r != CUDA_SUCCESS) {
      ptr_ = 0;
      absl::Status s = CuStatus(*d, r, "cuMemAlloc");
      return absl::Status(s.code(),
                          absl::StrCat(s.message(), " (", want, " bytes for ", what, ")"));
    }
    capacity_ = want == 0 ? mib : want;
    return ptr_;
  }

  size_t capacity() const { return capacity_; }

  // Frees the allocation (the owning context must be current).
  void Release() {
    if (ptr_ != 0 && d_ != nullptr) d_->cuMemFree(ptr_);
    ptr_ = 0;
    capacity_ = 0;
  }

 private:
  const Driver* d_ = nullptr;
  CUdeviceptr ptr_ = 0;
  size_t capacity_ = 0;
};

}  // namespace ensolve::cuda

#endif  // ENSOLVE_ENGINE_CUDA_INTERNAL_DEVICE_BUFFER_H_
