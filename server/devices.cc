#include "server/devices.h"

#include <thread>

#include "absl/strings/str_cat.h"

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

// GPU backends come with the CUDA backend issue; until then there are none.
std::vector<Device> GpuDevices() { return {}; }

}  // namespace

absl::StatusOr<std::vector<Device>> CreateDevices(const std::string& devices, int threads) {
  std::vector<Device> out;
  if (devices == "cpu") {
    out.push_back(CpuDevice(threads));
  } else if (devices == "gpu") {
    out = GpuDevices();
    if (out.empty()) {
      return absl::FailedPreconditionError(
          "--devices=gpu: no GPU is available (this build has no GPU backend yet); use "
          "--devices=auto or --devices=cpu");
    }
  } else if (devices == "auto") {
    out = GpuDevices();
    if (out.empty()) out.push_back(CpuDevice(threads));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--devices: '", devices, "' is not one of auto, cpu, gpu"));
  }
  return out;
}

}  // namespace ensolve::server
