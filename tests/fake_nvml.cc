// A stand-in for NVML (libnvidia-ml.so.1) with one GPU and fixed readings, so tests can see
// ensolved's GPU gauges on a machine without a GPU: run ensolved with LD_LIBRARY_PATH set
// to this library's directory. Only the entry points server/internal/nvml.cc loads.
#include <cstring>

namespace {

struct Memory {
  unsigned long long total, free, used;
};
struct Utilization {
  unsigned int gpu, memory;
};
int device_tag;  // the one device's handle points here

int Copy(const char* text, char* out, unsigned int size) {
  if (std::strlen(text) + 1 > size) return 7;  // NVML_ERROR_INSUFFICIENT_SIZE
  std::strcpy(out, text);
  return 0;
}

}  // namespace

extern "C" {

int nvmlInit_v2() { return 0; }
int nvmlDeviceGetCount_v2(unsigned int* count) {
  *count = 1;
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void** device) {
  if (index != 0) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  *device = &device_tag;
  return 0;
}
int nvmlDeviceGetName(void*, char* name, unsigned int size) { return Copy("Fake GPU", name, size); }
int nvmlDeviceGetUUID(void*, char* uuid, unsigned int size) {
  return Copy("GPU-00000000-fake", uuid, size);
}
int nvmlDeviceGetMemoryInfo(void*, Memory* m) {
  m->total = 80ull << 30;
  m->used = 3ull << 30;
  m->free = m->total - m->used;
  return 0;
}
int nvmlDeviceGetUtilizationRates(void*, Utilization* u) {
  u->gpu = 37;
  u->memory = 12;
  return 0;
}

}  // extern "C"
