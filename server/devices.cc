#include "server/devices.h"

#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/cuda/cuda_backend.h"

namespace ensolve::server {
namespace {

// The "model name" line of /proc/cpuinfo, or "cpu" where there is none.
std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
  }
  return "cpu";
}

Device CpuDevice(int threads) {
  Device d;
  d.model = CpuModel();
  d.memory_bytes = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
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
    d.model = g.name;
    d.memory_bytes = g.total_memory_bytes;
    d.compute_capability =
        absl::StrCat(g.compute_capability_major, ".", g.compute_capability_minor);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Device>> CreateDevices(const std::string& devices, int threads) {
  std::vector<Device> out;
  std::string why;
  int copies = 0;
  if (devices == "cpu") {
    out.push_back(CpuDevice(threads));
  } else if (absl::StartsWith(devices, "cpu:") && absl::SimpleAtoi(devices.substr(4), &copies) &&
             copies >= 1 && copies <= 64) {
    // Several CPU workers, `threads` threads each (tests of several devices without GPUs).
    for (int i = 0; i < copies; ++i) out.push_back(CpuDevice(threads));
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
        absl::StrCat("--devices: '", devices, "' is not one of auto, cpu, cpu:N (1..64), gpu"));
  }
  return out;
}

}  // namespace ensolve::server
