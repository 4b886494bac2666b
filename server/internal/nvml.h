// NVML (libnvidia-ml.so.1), loaded with dlopen on first use, for the GPU gauges of /metrics:
// memory used and total and utilization per GPU. ensolved links nothing of NVIDIA's: where
// the library or a GPU is missing, Get() is null and those series are simply absent.
//
// Thread-safety: Get() and Sample() may be called from any thread (NVML is thread-safe).
#ifndef ENSOLVE_SERVER_INTERNAL_NVML_H_
#define ENSOLVE_SERVER_INTERNAL_NVML_H_

#include <cstdint>
#include <string>
#include <vector>

namespace ensolve::server {

struct GpuSample {
  int index = 0;     // NVML's index (PCI bus order)
  std::string name;  // "NVIDIA H200"
  std::string uuid;  // "GPU-..."
  uint64_t memory_used_bytes = 0;
  uint64_t memory_total_bytes = 0;
  // Share of the last sample period a kernel ran, 0..1; -1 where NVML cannot say (MIG).
  double utilization = -1;
};

class Nvml {
 public:
  // The loaded and initialized library, or null (no library, too old, no GPU, init failed).
  // ENSOLVE_NVML=0 turns it off.
  static const Nvml* Get();

  // One sample of every GPU NVML sees; a GPU whose queries fail is left out.
  std::vector<GpuSample> Sample() const;

  struct Api;  // the entry points (nvml.cc)

 private:
  explicit Nvml(const Api* api) : api_(api) {}
  const Api* api_;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_INTERNAL_NVML_H_
