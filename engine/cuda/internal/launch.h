// Loading an ensemble module and launching its kernels. KernelArgs mirrors, field for
// field, ensolve_gen::Args in engine/cuda/device/ensemble_kernel.cuh (the kernel's one
// by-value parameter); change both together.
#ifndef ENSOLVE_ENGINE_CUDA_INTERNAL_LAUNCH_H_
#define ENSOLVE_ENGINE_CUDA_INTERNAL_LAUNCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/cuda/internal/driver.h"
#include "engine/solve_options.h"

namespace ensolve::cuda {

template <class T>
struct KernelArgs {
  CUdeviceptr u0, p, saveat, out, retcodes, stats, t_final, cancel, t0s, t1s, events_fired;
  long long count, u0_stride, p_stride, save_step, save_stride;
  int num_save, max_steps;
  T t0, t1, dt, abstol, reltol, dtmin;
  unsigned long long seed;
  long long first;
};
static_assert(sizeof(KernelArgs<float>) == 176, "must match ensolve_gen::Args");
static_assert(sizeof(KernelArgs<double>) == 200, "must match ensolve_gen::Args");

struct LoadedKernel {
  Algorithm algorithm = Algorithm::kTsit5;
  Precision precision = Precision::kFloat64;
  std::vector<std::string> outputs;  // the output selection it was generated for
  CUmodule module = nullptr;
  // [adaptive][saveat]: the ensemble kernels for fixed or adaptive steps, final state only
  // or save points.
  CUfunction solve[2][2] = {};
  CUfunction transpose = nullptr;
  int registers[2][2] = {};
  int local_bytes[2][2] = {};  // stack / spills per thread
};

// Loads `cubin` into the current context and looks up the kernels (module, functions and
// their register counts into `k`).
absl::Status LoadKernel(const Driver& d, const std::string& cubin, LoadedKernel* k);

// One thread per trajectory, blocks of kBlockSize.
template <class T>
absl::Status LaunchEnsemble(const Driver& d, CUfunction fn, CUstream stream, int64_t count,
                            KernelArgs<T>* args);

// Row-major [cols][rows] from SoA [rows][cols].
absl::Status LaunchTranspose(const Driver& d, CUfunction fn, CUstream stream, CUdeviceptr in,
                             CUdeviceptr out, int rows, int64_t cols);

}  // namespace ensolve::cuda

#endif  // ENSOLVE_ENGINE_CUDA_INTERNAL_LAUNCH_H_
