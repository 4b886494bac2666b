// The CUDA driver API, loaded at run time with dlopen so that a binary built with the CUDA
// headers still starts (and serves on the CPU) where no driver is installed. Every call
// goes through CU_RETURN_IF_ERROR / CuStatus, which turn a CUresult into an absl::Status
// naming the call and the driver's error string.
//
// Thread-safety: Driver::Get() loads the library once (thread-safe); the function table
// is immutable afterwards.
#ifndef ENSOLVE_ENGINE_CUDA_INTERNAL_DRIVER_H_
#define ENSOLVE_ENGINE_CUDA_INTERNAL_DRIVER_H_

#include <cuda.h>

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ensolve::cuda {

struct Driver {
  // Versioned entry points are loaded under their versioned symbol names (cuMemAlloc is
  // cuMemAlloc_v2, ...), exactly what cuda.h would have linked against.
  CUresult (*cuInit)(unsigned int);
  CUresult (*cuDriverGetVersion)(int*);
  CUresult (*cuGetErrorString)(CUresult, const char**);
  CUresult (*cuGetErrorName)(CUresult, const char**);
  CUresult (*cuDeviceGetCount)(int*);
  CUresult (*cuDeviceGet)(CUdevice*, int);
  CUresult (*cuDeviceGetName)(char*, int, CUdevice);
  CUresult (*cuDeviceTotalMem)(size_t*, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int*, CUdevice_attribute, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext*, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxPushCurrent)(CUcontext);
  CUresult (*cuCtxPopCurrent)(CUcontext*);
  CUresult (*cuMemGetInfo)(size_t*, size_t*);
  CUresult (*cuStreamCreate)(CUstream*, unsigned int);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamQuery)(CUstream);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned int);
  CUresult (*cuMemAlloc)(CUdeviceptr*, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemAllocHost)(void**, size_t);
  CUresult (*cuMemFreeHost)(void*);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void*, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void*, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned int, size_t, CUstream);
  CUresult (*cuModuleLoadData)(CUmodule*, const void*);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction*, CUmodule, const char*);
  CUresult (*cuFuncGetAttribute)(int*, CUfunction_attribute, CUfunction);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned int, unsigned int, unsigned int, unsigned int,
                             unsigned int, unsigned int, unsigned int, CUstream, void**, void**);
  CUresult (*cuEventCreate)(CUevent*, unsigned int);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuEventElapsedTime)(float*, CUevent, CUevent);

  // The loaded driver, or UNAVAILABLE ("no CUDA driver (libcuda.so.1 not found)") when the
  // library or one of its symbols is missing. The result is computed once and cached.
  static absl::StatusOr<const Driver*> Get();
};

// OK for CUDA_SUCCESS; otherwise a status naming `call` and the driver's error name and
// string. CUDA_ERROR_OUT_OF_MEMORY maps to RESOURCE_EXHAUSTED, "no device" and "not
// initialized"-type errors to UNAVAILABLE, everything else to INTERNAL.
absl::Status CuStatus(const Driver& d, CUresult r, const char* call);

}  // namespace ensolve::cuda

// Evaluates a driver call `drv.fn(args...)`, returning its error status from the enclosing
// function (which must return absl::Status or absl::StatusOr).
#define CU_RETURN_IF_ERROR(drv, fn, ...)                                \
  do {                                                                  \
    const CUresult ensolve_cu_result_ = (drv).fn(__VA_ARGS__);          \
    if (ensolve_cu_result_ != CUDA_SUCCESS) {                           \
      return ::ensolve::cuda::CuStatus((drv), ensolve_cu_result_, #fn); \
    }                                                                   \
  } while (0)

#endif  // ENSOLVE_ENGINE_CUDA_INTERNAL_DRIVER_H_
