// Code generation for the CUDA backend: a model's IR as straight-line CUDA C++, and the
// whole NVRTC translation unit of an ensemble kernel (generated model code + the shared
// algorithm templates + engine/cuda/device/ensemble_kernel.cuh, the latter two embedded
// in the binary at build time so NVRTC compiles exactly what the CPU backend compiled).
//
// Thread-safety: pure functions.
#ifndef ENSOLVE_ENGINE_CUDA_CODEGEN_H_
#define ENSOLVE_ENGINE_CUDA_CODEGEN_H_

#include <string>
#include <vector>

#include "engine/cuda/internal/nvrtc.h"
#include "engine/model/model.h"
#include "engine/solve_options.h"

namespace ensolve::cuda {

// Bumped whenever generated code changes meaning; part of every kernel cache key.
inline constexpr int kCodegenVersion =
    6;  // 4: SDEs, events, block LU; 5: their merge; 6: event scan

// Threads per block of the ensemble kernels.
inline constexpr int kBlockSize = 128;

// `__device__` functions, in namespace ensolve_gen, evaluating roots of the model's graph
// in precision R (which the caller typedefs):
//   ModelRhs(t, u, p, du)            du[i] = rhs_i
//   ModelJacobian(t, u, p, J)        J[i * n + j] = d rhs_i / d u_j      (if `jacobian`)
//   ModelTimeDerivative(t, u, p, dt) dt[i] = d rhs_i / d t               (if `time_derivative`)
//   ModelNoise(t, u, p, G)           G[i * m + j] = g_ij, the noise matrix  (if `noise`)
// Every live node is one `const R` temporary, in ascending id order (a valid evaluation
// order); constants are exact hexadecimal literals converted to R like the CPU backend's.
std::string GenerateModelCode(const Model& model, Precision precision, bool jacobian,
                              bool time_derivative, bool noise = false);

// What NVRTC's messages call a raw kernel's source (its lines keep their numbers).
inline constexpr char kRawKernelSourceName[] = "raw_kernel.cuda_source";

// The kernel translation unit for `model` solved with `algorithm` in `precision`: defines
// the kernels ensolve_fixed, ensolve_adaptive and ensolve_transpose (see
// ensemble_kernel.cuh for their contract). A raw-kernel model's source takes the place of
// the generated ModelRhs (engine/model/raw_kernel.h).
// `selection` (Model::SelectionRoots; empty: every state) is what each save point holds.
std::string GenerateKernelSource(const Model& model, Algorithm algorithm, Precision precision,
                                 const std::vector<ir::NodeId>& selection = {});

// The translation unit of the device sampler (engine/cuda/device/sampler_kernel.cuh: the
// kernels ensolve_sample_uniform and ensolve_sample_grid), and its cubin cache key. It
// does not depend on any model.
std::string SamplerKernelSource();
inline constexpr char kSamplerKernelKey[] = "ensolve_sampler/v1";

// The named headers the kernel source includes (algorithm templates and the device
// kernel), with their text as embedded at build time.
const std::vector<NamedHeader>& KernelHeaders();

// The cache key of a kernel: model hash, algorithm, precision and codegen version.
std::string KernelKey(const Model& model, Algorithm algorithm, Precision precision,
                      const std::vector<std::string>& outputs = {});

}  // namespace ensolve::cuda

#endif  // ENSOLVE_ENGINE_CUDA_CODEGEN_H_
