#include "engine/cuda/internal/driver.h"

#include <dlfcn.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace ensolve::cuda {
namespace {

template <class Fn>
bool Load(void* lib, const char* symbol, Fn*& fn, std::string* missing) {
  fn = reinterpret_cast<Fn*>(dlsym(lib, symbol));
  if (fn == nullptr && missing->empty()) *missing = symbol;
  return fn != nullptr;
}

absl::StatusOr<const Driver*> LoadDriver() {
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    return absl::UnavailableError("no CUDA driver (libcuda.so.1 not found)");
  }
  static Driver d;
  std::string missing;
#define ENSOLVE_LOAD(field, symbol) Load(lib, symbol, d.field, &missing)
  ENSOLVE_LOAD(cuInit, "cuInit");
  ENSOLVE_LOAD(cuDriverGetVersion, "cuDriverGetVersion");
  ENSOLVE_LOAD(cuGetErrorString, "cuGetErrorString");
  ENSOLVE_LOAD(cuGetErrorName, "cuGetErrorName");
  ENSOLVE_LOAD(cuDeviceGetCount, "cuDeviceGetCount");
  ENSOLVE_LOAD(cuDeviceGet, "cuDeviceGet");
  ENSOLVE_LOAD(cuDeviceGetName, "cuDeviceGetName");
  ENSOLVE_LOAD(cuDeviceTotalMem, "cuDeviceTotalMem_v2");
  ENSOLVE_LOAD(cuDeviceGetAttribute, "cuDeviceGetAttribute");
  ENSOLVE_LOAD(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
  ENSOLVE_LOAD(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
  ENSOLVE_LOAD(cuCtxSetCurrent, "cuCtxSetCurrent");
  ENSOLVE_LOAD(cuCtxPushCurrent, "cuCtxPushCurrent_v2");
  ENSOLVE_LOAD(cuCtxPopCurrent, "cuCtxPopCurrent_v2");
  ENSOLVE_LOAD(cuMemGetInfo, "cuMemGetInfo_v2");
  ENSOLVE_LOAD(cuStreamCreate, "cuStreamCreate");
  ENSOLVE_LOAD(cuStreamDestroy, "cuStreamDestroy_v2");
  ENSOLVE_LOAD(cuStreamSynchronize, "cuStreamSynchronize");
  ENSOLVE_LOAD(cuStreamQuery, "cuStreamQuery");
  ENSOLVE_LOAD(cuStreamWaitEvent, "cuStreamWaitEvent");
  ENSOLVE_LOAD(cuMemAlloc, "cuMemAlloc_v2");
  ENSOLVE_LOAD(cuMemFree, "cuMemFree_v2");
  ENSOLVE_LOAD(cuMemAllocHost, "cuMemAllocHost_v2");
  ENSOLVE_LOAD(cuMemFreeHost, "cuMemFreeHost");
  ENSOLVE_LOAD(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
  ENSOLVE_LOAD(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
  ENSOLVE_LOAD(cuMemsetD8Async, "cuMemsetD8Async");
  ENSOLVE_LOAD(cuMemsetD32Async, "cuMemsetD32Async");
  ENSOLVE_LOAD(cuModuleLoadData, "cuModuleLoadData");
  ENSOLVE_LOAD(cuModuleUnload, "cuModuleUnload");
  ENSOLVE_LOAD(cuModuleGetFunction, "cuModuleGetFunction");
  ENSOLVE_LOAD(cuFuncGetAttribute, "cuFuncGetAttribute");
  ENSOLVE_LOAD(cuLaunchKernel, "cuLaunchKernel");
  ENSOLVE_LOAD(cuEventCreate, "cuEventCreate");
  ENSOLVE_LOAD(cuEventDestroy, "cuEventDestroy_v2");
  ENSOLVE_LOAD(cuEventRecord, "cuEventRecord");
  ENSOLVE_LOAD(cuEventSynchronize, "cuEventSynchronize");
  ENSOLVE_LOAD(cuEventElapsedTime, "cuEventElapsedTime_v2");
#undef ENSOLVE_LOAD
  if (!missing.empty()) {
    return absl::UnavailableError(
        absl::StrCat("CUDA driver too old: libcuda.so.1 has no symbol ", missing));
  }
  const CUresult r = d.cuInit(0);
  if (r == CUDA_ERROR_NO_DEVICE) return absl::UnavailableError("no CUDA device");
  if (r != CUDA_SUCCESS) return CuStatus(d, r, "cuInit");
  return &d;
}

}  // namespace

absl::StatusOr<const Driver*> Driver::Get() {
  static const absl::StatusOr<const Driver*>* driver =
      new absl::StatusOr<const Driver*>(LoadDriver());
  return *driver;
}

absl::Status CuStatus(const Driver& d, CUresult r, const char* call) {
  if (r == CUDA_SUCCESS) return absl::OkStatus();
  const char* name = nullptr;
  const char* text = nullptr;
  if (d.cuGetErrorName(r, &name) != CUDA_SUCCESS) name = "CUDA_ERROR_UNKNOWN";
  if (d.cuGetErrorString(r, &text) != CUDA_SUCCESS) text = "unrecognized error code";
  std::string msg = absl::StrCat(call, " failed: ", name, " (", static_cast<int>(r), "): ", text);
  switch (r) {
    case CUDA_ERROR_OUT_OF_MEMORY:
      return absl::ResourceExhaustedError(msg);
    case CUDA_ERROR_NO_DEVICE:
    case CUDA_ERROR_INVALID_DEVICE:
    case CUDA_ERROR_NOT_INITIALIZED:
    case CUDA_ERROR_DEINITIALIZED:
    case CUDA_ERROR_DEVICE_UNAVAILABLE:
    case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

}  // namespace ensolve::cuda
