#include "engine/cuda/internal/reduce_launch.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/cuda/internal/cubin_cache.h"

namespace ensolve::cuda {
namespace {

constexpr unsigned kThreads = 256;  // ensolve_reduce::kReduceThreads

size_t RoundUp(size_t n) { return (n + 255) / 256 * 256; }

}  // namespace

std::string ReduceKernelSource() { return "#include \"engine/cuda/device/reduce_kernel.cuh\"\n"; }

absl::Status LoadReduceKernels(const Driver& d, const std::string& arch, ReduceKernels* k) {
  if (k->module != nullptr) return absl::OkStatus();
  absl::StatusOr<CubinLookup> cubin = GetOrCompileCubin(kReduceKernelKey, arch, ReduceKernelSource);
  if (!cubin.ok()) return cubin.status();
  CUmodule module = nullptr;
  CU_RETURN_IF_ERROR(d, cuModuleLoadData, &module, cubin->program->cubin.data());
  ReduceKernels got;
  got.module = module;
  CUresult r = d.cuModuleGetFunction(&got.reduce_f32, module, "ensolve_reduce_f32");
  if (r == CUDA_SUCCESS) r = d.cuModuleGetFunction(&got.reduce_f64, module, "ensolve_reduce_f64");
  if (r == CUDA_SUCCESS) {
    r = d.cuModuleGetFunction(&got.count_retcodes, module, "ensolve_count_retcodes");
  }
  if (r != CUDA_SUCCESS) {
    d.cuModuleUnload(module);
    return CuStatus(d, r, "cuModuleGetFunction");
  }
  *k = got;
  return absl::OkStatus();
}

ReduceLayout ReduceLayout::For(const ReductionSpec& spec) {
  const size_t cells = static_cast<size_t>(spec.cells());
  ReduceLayout l;
  l.moments = 0;
  l.nonfinite = RoundUp(cells * sizeof(reduce::Moments));
  l.histogram = l.nonfinite + RoundUp(cells * 8);
  l.retcodes = l.histogram + RoundUp(cells * spec.slots() * 8);
  l.bytes = l.retcodes + kReductionRetCodes * 8;
  return l;
}

absl::Status LaunchReduce(const Driver& d, const ReduceKernels& k, CUstream stream,
                          Precision precision, const ReductionSpec& spec, CUdeviceptr soa,
                          CUdeviceptr retcodes, int64_t count, CUdeviceptr edges, CUdeviceptr out) {
  const ReduceLayout l = ReduceLayout::For(spec);
  const int64_t cells = spec.cells();
  if (cells > 2147483647 || cells < 1) {
    return absl::InvalidArgumentError(absl::StrCat("reduction: ", cells, " cells"));
  }
  CU_RETURN_IF_ERROR(d, cuMemsetD8Async, out + l.retcodes, 0, kReductionRetCodes * 8, stream);
  CUdeviceptr codes = retcodes, counts = out + l.retcodes;
  long long n = count;
  {
    void* params[] = {&codes, &n, &counts};
    const int64_t blocks = std::min<int64_t>((count + kThreads - 1) / kThreads, 1024);
    CU_RETURN_IF_ERROR(d, cuLaunchKernel, k.count_retcodes,
                       static_cast<unsigned>(std::max<int64_t>(blocks, 1)), 1, 1, kThreads, 1, 1, 0,
                       stream, params, nullptr);
  }
  CUdeviceptr in = soa, e = edges, moments = out + l.moments, nonfinite = out + l.nonfinite,
              histogram = out + l.histogram;
  int width = spec.width, bins = spec.bins;
  int stride = spec.per_quantity_edges ? spec.bins + 1 : 0;
  void* params[] = {&in, &codes, &n, &width, &e, &bins, &stride, &moments, &nonfinite, &histogram};
  const unsigned shared = static_cast<unsigned>(spec.slots() * sizeof(unsigned));
  CU_RETURN_IF_ERROR(
      d, cuLaunchKernel, precision == Precision::kFloat32 ? k.reduce_f32 : k.reduce_f64,
      static_cast<unsigned>(cells), 1, 1, kThreads, 1, 1, shared, stream, params, nullptr);
  return absl::OkStatus();
}

void UnpackReduction(const ReductionSpec& spec, const void* block, int64_t count, Reduction* out) {
  const ReduceLayout l = ReduceLayout::For(spec);
  const char* b = static_cast<const char*>(block);
  out->Reset(spec);
  out->trajectories = count;
  std::memcpy(out->retcodes, b + l.retcodes, sizeof(out->retcodes));
  std::memcpy(out->moments.data(), b + l.moments, out->moments.size() * sizeof(reduce::Moments));
  std::memcpy(out->nonfinite.data(), b + l.nonfinite, out->nonfinite.size() * 8);
  std::memcpy(out->histogram.data(), b + l.histogram, out->histogram.size() * 8);
}

}  // namespace ensolve::cuda
