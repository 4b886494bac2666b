// Device discovery (ListCudaDevices) and the per-device query shared with the backend.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/internal/device_info.h"
#include "engine/cuda/internal/driver.h"

namespace ensolve {
namespace cuda {

absl::StatusOr<GpuDeviceInfo> QueryDevice(const Driver& d, int ordinal) {
  GpuDeviceInfo info;
  info.index = ordinal;
  CUdevice dev;
  CU_RETURN_IF_ERROR(d, cuDeviceGet, &dev, ordinal);
  char name[256] = {};
  CU_RETURN_IF_ERROR(d, cuDeviceGetName, name, sizeof(name) - 1, dev);
  info.name = name;
  size_t bytes = 0;
  CU_RETURN_IF_ERROR(d, cuDeviceTotalMem, &bytes, dev);
  info.total_memory_bytes = static_cast<int64_t>(bytes);
  CU_RETURN_IF_ERROR(d, cuDeviceGetAttribute, &info.compute_capability_major,
                     CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
  CU_RETURN_IF_ERROR(d, cuDeviceGetAttribute, &info.compute_capability_minor,
                     CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
  CU_RETURN_IF_ERROR(d, cuDeviceGetAttribute, &info.multiprocessors,
                     CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
  int domain = 0, bus = 0, slot = 0;
  CU_RETURN_IF_ERROR(d, cuDeviceGetAttribute, &domain, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, dev);
  CU_RETURN_IF_ERROR(d, cuDeviceGetAttribute, &bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, dev);
  CU_RETURN_IF_ERROR(d, cuDeviceGetAttribute, &slot, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, dev);
  char pci[32];
  std::snprintf(pci, sizeof(pci), "%04x:%02x:%02x.0", domain, bus, slot);
  info.pci_bus_id = pci;
  return info;
}

absl::StatusOr<int> DeviceCount(const Driver& d) {
  int count = 0;
  CU_RETURN_IF_ERROR(d, cuDeviceGetCount, &count);
  if (count <= 0) return absl::UnavailableError("no CUDA device");
  return count;
}

}  // namespace cuda

absl::StatusOr<std::vector<GpuDeviceInfo>> ListCudaDevices() {
  absl::StatusOr<const cuda::Driver*> d = cuda::Driver::Get();
  if (!d.ok()) return d.status();
  absl::StatusOr<int> count = cuda::DeviceCount(**d);
  if (!count.ok()) return count.status();
  std::vector<GpuDeviceInfo> out;
  for (int i = 0; i < *count; ++i) {
    absl::StatusOr<GpuDeviceInfo> info = cuda::QueryDevice(**d, i);
    if (!info.ok()) return info.status();
    out.push_back(*std::move(info));
  }
  return out;
}

}  // namespace ensolve
