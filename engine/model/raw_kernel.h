// Raw-kernel models: a trusted tenant's right-hand side given as CUDA C++ source instead
// of model text (docs/api.md, "Raw CUDA kernels"). The source defines
//   __device__ void ModelRhs(R t, const R* __restrict__ u, const R* __restrict__ p,
//                            R* __restrict__ du)
// in the kernel's namespace, where R (float or double), kN (states) and kP (parameters)
// are defined before it; u and p hold the states and parameters in the order named here,
// exactly as the model language's generated ModelRhs does. Only the CUDA backend runs such
// a model, with explicit ODE methods (nothing else has its Jacobian, noise or events).
//
// Thread-safety: pure functions; the Model returned is immutable.
#ifndef ENSOLVE_ENGINE_MODEL_RAW_KERNEL_H_
#define ENSOLVE_ENGINE_MODEL_RAW_KERNEL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/limits.h"
#include "engine/model/model.h"

namespace ensolve {

struct RawKernelSpec {
  std::string cuda_source;
  std::vector<std::string> states, params;
  // One value per name, or empty (every default 0).
  std::vector<double> state_defaults, param_defaults;
};

// The model of `spec`. INVALID_ARGUMENT naming the field ("raw_kernel.states[2]: ...")
// for an empty source (its size is bounded by the caller), no states, a name that is
// not a C identifier or is given twice, more states or parameters than `limits` allow, or
// defaults of the wrong count. The model's hash covers the source, the names and the
// defaults, and differs from every model text's; NVRTC gets limits.max_compile_seconds to
// compile it (Model::raw_compile_seconds).
absl::StatusOr<std::unique_ptr<Model>> BuildRawKernelModel(const RawKernelSpec& spec,
                                                           const ModelLimits& limits = {});

// A deterministic, unambiguous text of `spec` (length-prefixed fields): what its hash and
// cache key are computed from. It never parses as model text (it starts with a byte the
// model language rejects).
std::string RawKernelKey(const RawKernelSpec& spec);

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_MODEL_RAW_KERNEL_H_
