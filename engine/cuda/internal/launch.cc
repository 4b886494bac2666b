#include "engine/cuda/internal/launch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/cuda/codegen.h"

namespace ensolve::cuda {

absl::Status LoadKernel(const Driver& d, const std::string& cubin, LoadedKernel* k) {
  CU_RETURN_IF_ERROR(d, cuModuleLoadData, &k->module, cubin.data());
  const char* names[2][2] = {{"ensolve_fixed", "ensolve_fixed_saveat"},
                             {"ensolve_adaptive", "ensolve_adaptive_saveat"}};
  for (int a = 0; a < 2; ++a) {
    for (int s = 0; s < 2; ++s) {
      CUfunction& f = k->solve[a][s];
      CU_RETURN_IF_ERROR(d, cuModuleGetFunction, &f, k->module, names[a][s]);
      CU_RETURN_IF_ERROR(d, cuFuncGetAttribute, &k->registers[a][s], CU_FUNC_ATTRIBUTE_NUM_REGS, f);
      CU_RETURN_IF_ERROR(d, cuFuncGetAttribute, &k->local_bytes[a][s],
                         CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, f);
    }
  }
  CU_RETURN_IF_ERROR(d, cuModuleGetFunction, &k->transpose, k->module, "ensolve_transpose");
  return absl::OkStatus();
}

template <class T>
absl::Status LaunchEnsemble(const Driver& d, CUfunction fn, CUstream stream, int64_t count,
                            KernelArgs<T>* args) {
  const int64_t blocks = (count + kBlockSize - 1) / kBlockSize;
  if (blocks > 2147483647) {
    return absl::InvalidArgumentError(absl::StrCat("count: ", count,
                                                   " trajectories in one batch "
                                                   "exceed the launch limit"));
  }
  void* params[] = {args};
  CU_RETURN_IF_ERROR(d, cuLaunchKernel, fn, static_cast<unsigned>(blocks), 1, 1, kBlockSize, 1, 1,
                     0, stream, params, nullptr);
  return absl::OkStatus();
}

template absl::Status LaunchEnsemble<float>(const Driver&, CUfunction, CUstream, int64_t,
                                            KernelArgs<float>*);
template absl::Status LaunchEnsemble<double>(const Driver&, CUfunction, CUstream, int64_t,
                                             KernelArgs<double>*);

absl::Status LaunchTranspose(const Driver& d, CUfunction fn, CUstream stream, CUdeviceptr in,
                             CUdeviceptr out, int rows, int64_t cols) {
  const int64_t bx = (cols + 31) / 32;
  if (bx > 2147483647) return absl::InvalidArgumentError("count: too many trajectories");
  const unsigned by = static_cast<unsigned>(std::min<int64_t>((rows + 31) / 32, 65535));
  long long c = cols;
  void* params[] = {&in, &out, &rows, &c};
  CU_RETURN_IF_ERROR(d, cuLaunchKernel, fn, static_cast<unsigned>(bx), by, 1, 32, 8, 1, 0, stream,
                     params, nullptr);
  return absl::OkStatus();
}

}  // namespace ensolve::cuda
