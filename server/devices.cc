#include "server/devices.h"

#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/cuda/cuda_backend.h"

namespace ensolve::server {
namespace {

Device CpuDevice(int threads) {
  Device d;
  d.threads = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  if (d.threads < 1) d.threads = 1;
  d.backend = NewCpuBackend(d.threads);
  d.kind = "cpu";
  return d;
}

// One device per CUDA GPU the driver sees. Without a driver, a device or NVRTC, none, and
// `*why` says why.
std::vector<Device> GpuDevices(std::string* why) {
  std::vector<Device> out;
  absl::StatusOr<std::vector<GpuDeviceInfo>> gpus = ListCudaDevices();
  if (!gpus.ok()) {
    *why = std::string(gpus.status().message());
    return out;
  }
  for (const GpuDeviceInfo& g : *gpus) {
    absl::StatusOr<std::unique_ptr<CudaBackend>> b = NewCudaBackend(g.index);
    if (!b.ok()) {
      *why = absl::StrCat("cuda:", g.index, ": ", b.status().message());
      continue;
    }
    Device d;
    d.backend = std::move(*b);
    d.kind = "cuda";
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Device>> CreateDevices(const std::string& devices, int threads) {
  std::vector<Device> out;
  std::string why;
  if (devices == "cpu") {
    out.push_back(CpuDevice(threads));
  } else if (devices == "gpu") {
    out = GpuDevices(&why);
    if (out.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("--devices=gpu: no GPU is available (", why,
                                                        "); use --devices=auto or --devices=cpu"));
    }
  } else if (devices == "auto") {
    out = GpuDevices(&why);
    if (out.empty()) out.push_back(CpuDevice(threads));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--devices: '", devices, "' is not one of auto, cpu, gpu"));
  }
  return out;
}

}  // namespace ensolve::server
