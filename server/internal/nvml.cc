#include "server/internal/nvml.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

namespace ensolve::server {
namespace {

// The few NVML types used, as nvml.h (CUDA toolkit) declares them; their layout is part of
// NVML's stable ABI. Declared here so the server builds without the CUDA headers.
using nvmlReturn_t = int;
constexpr nvmlReturn_t kNvmlSuccess = 0;
struct nvmlDeviceOpaque;
using nvmlDevice_t = nvmlDeviceOpaque*;
struct nvmlMemory_t {
  unsigned long long total, free, used;
};
struct nvmlUtilization_t {
  unsigned int gpu, memory;  // percent
};

}  // namespace

struct Nvml::Api {
  nvmlReturn_t (*Init)();
  nvmlReturn_t (*DeviceGetCount)(unsigned int*);
  nvmlReturn_t (*DeviceGetHandleByIndex)(unsigned int, nvmlDevice_t*);
  nvmlReturn_t (*DeviceGetName)(nvmlDevice_t, char*, unsigned int);
  nvmlReturn_t (*DeviceGetUUID)(nvmlDevice_t, char*, unsigned int);
  nvmlReturn_t (*DeviceGetMemoryInfo)(nvmlDevice_t, nvmlMemory_t*);
  nvmlReturn_t (*DeviceGetUtilizationRates)(nvmlDevice_t, nvmlUtilization_t*);
};

namespace {

template <class Fn>
bool Load(void* lib, const char* symbol, Fn*& fn) {
  fn = reinterpret_cast<Fn*>(dlsym(lib, symbol));
  return fn != nullptr;
}

const Nvml::Api* LoadApi() {
  if (const char* env = std::getenv("ENSOLVE_NVML"); env != nullptr && std::strcmp(env, "0") == 0) {
    return nullptr;
  }
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return nullptr;
  static Nvml::Api api;
  const bool ok = Load(lib, "nvmlInit_v2", api.Init) &&
                  Load(lib, "nvmlDeviceGetCount_v2", api.DeviceGetCount) &&
                  Load(lib, "nvmlDeviceGetHandleByIndex_v2", api.DeviceGetHandleByIndex) &&
                  Load(lib, "nvmlDeviceGetName", api.DeviceGetName) &&
                  Load(lib, "nvmlDeviceGetUUID", api.DeviceGetUUID) &&
                  Load(lib, "nvmlDeviceGetMemoryInfo", api.DeviceGetMemoryInfo) &&
                  Load(lib, "nvmlDeviceGetUtilizationRates", api.DeviceGetUtilizationRates);
  if (!ok || api.Init() != kNvmlSuccess) return nullptr;
  unsigned int count = 0;
  if (api.DeviceGetCount(&count) != kNvmlSuccess || count == 0) return nullptr;
  return &api;
}

}  // namespace

const Nvml* Nvml::Get() {
  static const Nvml* nvml = [] {
    const Api* api = LoadApi();
    return api == nullptr ? nullptr : new Nvml(api);
  }();
  return nvml;
}

std::vector<GpuSample> Nvml::Sample() const {
  std::vector<GpuSample> out;
  unsigned int count = 0;
  if (api_->DeviceGetCount(&count) != kNvmlSuccess) return out;
  for (unsigned int i = 0; i < count; ++i) {
    nvmlDevice_t dev = nullptr;
    nvmlMemory_t mem{};
    if (api_->DeviceGetHandleByIndex(i, &dev) != kNvmlSuccess ||
        api_->DeviceGetMemoryInfo(dev, &mem) != kNvmlSuccess) {
      continue;
    }
    GpuSample s;
    s.index = static_cast<int>(i);
    s.memory_used_bytes = mem.used;
    s.memory_total_bytes = mem.total;
    nvmlUtilization_t util{};
    if (api_->DeviceGetUtilizationRates(dev, &util) == kNvmlSuccess) {
      s.utilization = util.gpu / 100.0;
    }
    char text[96] = {};
    if (api_->DeviceGetName(dev, text, sizeof(text)) == kNvmlSuccess) s.name = text;
    std::memset(text, 0, sizeof(text));
    if (api_->DeviceGetUUID(dev, text, sizeof(text)) == kNvmlSuccess) s.uuid = text;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ensolve::server
