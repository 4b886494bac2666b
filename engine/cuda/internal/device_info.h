// Device queries shared by ListCudaDevices() and the backend.
#ifndef ENSOLVE_ENGINE_CUDA_INTERNAL_DEVICE_INFO_H_
#define ENSOLVE_ENGINE_CUDA_INTERNAL_DEVICE_INFO_H_

#include "absl/status/statusor.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/internal/driver.h"

namespace ensolve::cuda {

// Name, memory, compute capability, multiprocessors and PCI address of device `ordinal`.
absl::StatusOr<GpuDeviceInfo> QueryDevice(const Driver& d, int ordinal);

// The number of devices; UNAVAILABLE "no CUDA device" when there are none.
absl::StatusOr<int> DeviceCount(const Driver& d);

}  // namespace ensolve::cuda

#endif  // ENSOLVE_ENGINE_CUDA_INTERNAL_DEVICE_INFO_H_
