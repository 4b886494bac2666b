// Reductions on the device (engine/cuda/device/reduce_kernel.cuh): the module, the layout
// of one batch's statistics in device memory, and the launches.
#ifndef ENSOLVE_ENGINE_CUDA_INTERNAL_REDUCE_LAUNCH_H_
#define ENSOLVE_ENGINE_CUDA_INTERNAL_REDUCE_LAUNCH_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "engine/cuda/internal/driver.h"
#include "engine/reduction.h"
#include "engine/solve_options.h"

namespace ensolve::cuda {

inline constexpr char kReduceKernelKey[] = "ensolve_reduce/v1";
// The NVRTC source of the reduction module (it includes the embedded headers).
std::string ReduceKernelSource();

struct ReduceKernels {
  CUmodule module = nullptr;
  CUfunction reduce_f32 = nullptr, reduce_f64 = nullptr, count_retcodes = nullptr;
};

// Compiles (once per process and architecture, engine/cuda/internal/cubin_cache.h) and loads
// the module into the current context.
absl::Status LoadReduceKernels(const Driver& d, const std::string& arch, ReduceKernels* k);

// Where one batch's statistics lie in a block of device (and host) memory.
struct ReduceLayout {
  size_t moments = 0;    // [cells] reduce::Moments
  size_t nonfinite = 0;  // [cells] uint64
  size_t histogram = 0;  // [cells][bins + 2] uint64
  size_t retcodes = 0;   // [kReductionRetCodes] uint64
  size_t bytes = 0;
  static ReduceLayout For(const ReductionSpec& spec);
};

// Queues on `stream`: the return-code counts and the statistics of every cell of the SoA
// output `soa` ([cells][count] of `precision`), into the block at `out` (ReduceLayout);
// `edges` holds spec.edges on the device.
absl::Status LaunchReduce(const Driver& d, const ReduceKernels& k, CUstream stream,
                          Precision precision, const ReductionSpec& spec, CUdeviceptr soa,
                          CUdeviceptr retcodes, int64_t count, CUdeviceptr edges, CUdeviceptr out);

// The statistics of `count` trajectories from a downloaded block.
void UnpackReduction(const ReductionSpec& spec, const void* block, int64_t count, Reduction* out);

}  // namespace ensolve::cuda

#endif  // ENSOLVE_ENGINE_CUDA_INTERNAL_REDUCE_LAUNCH_H_
