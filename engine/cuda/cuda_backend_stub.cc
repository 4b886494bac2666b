// The CUDA backend where the build found no CUDA headers: always UNAVAILABLE.
#include "absl/status/status.h"
#include "engine/cuda/cuda_backend.h"

namespace ensolve {

absl::StatusOr<std::vector<GpuDeviceInfo>> ListCudaDevices() {
  return absl::UnavailableError("no CUDA support (built without the CUDA headers)");
}

absl::StatusOr<std::unique_ptr<CudaBackend>> NewCudaBackend(int, const CudaBackendOptions&) {
  return absl::UnavailableError("no CUDA support (built without the CUDA headers)");
}

}  // namespace ensolve
