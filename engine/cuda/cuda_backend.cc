// The CUDA backend: NVRTC-compiled ensemble kernels (one thread per trajectory), a
// per-device module cache, pooled device memory, and a warm context and streams.
#include "engine/cuda/cuda_backend.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/cuda/codegen.h"
#include "engine/cuda/internal/cubin_cache.h"
#include "engine/cuda/internal/device_buffer.h"
#include "engine/cuda/internal/device_info.h"
#include "engine/cuda/internal/driver.h"
#include "engine/cuda/internal/launch.h"
#include "engine/cuda/internal/pinned_pool.h"
#include "engine/cuda/internal/reduce_launch.h"
#include "engine/sampler.h"
#include "engine/solve_inputs.h"

namespace ensolve {
namespace {

using cuda::DeviceBuffer;
using cuda::Driver;
using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

#define ENSOLVE_RETURN_IF_ERROR(expr)    \
  do {                                   \
    const absl::Status status_ = (expr); \
    if (!status_.ok()) return status_;   \
  } while (0)

#define ENSOLVE_ASSIGN_OR_RETURN(lhs, expr)     \
  auto lhs##_or = (expr);                       \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  auto lhs = *lhs##_or

// A raw kernel's compile failure as the tenant's error: INVALID_ARGUMENT with NVRTC's log
// (at most 8 KiB of it), RESOURCE_EXHAUSTED past the compile time limit.
absl::Status RawKernelError(const absl::Status& s) {
  constexpr size_t kMaxLog = 8 * 1024;
  std::string what(s.message());
  if (what.size() > kMaxLog) what = absl::StrCat(what.substr(0, kMaxLog), "\n... (log cut)");
  if (s.code() == absl::StatusCode::kInvalidArgument) {
    return absl::InvalidArgumentError(
        absl::StrCat("raw_kernel.cuda_source: does not compile: ", what));
  }
  if (s.code() == absl::StatusCode::kDeadlineExceeded) {
    return absl::ResourceExhaustedError(
        absl::StrCat("raw_kernel.cuda_source: ", what,
                     " (the limit max_compile_seconds, --max_compile_time); simplify the kernel"));
  }
  return s;
}

class CudaPreparedModel : public PreparedModel {
 public:
  CudaPreparedModel(const Model& model, const cuda::LoadedKernel* kernel)
      : model(model), kernel(kernel) {}
  const Model& model;
  const cuda::LoadedKernel* kernel;  // owned by the backend
};

class CudaBackendImpl : public CudaBackend {
 public:
  CudaBackendImpl(const Driver* d, GpuDeviceInfo info, const CudaBackendOptions& options)
      : d_(d),
        info_(std::move(info)),
        arch_(absl::StrCat("sm_", info_.compute_capability_major, info_.compute_capability_minor)),
        options_(options) {}

  ~CudaBackendImpl() override {
    if (ctx_ == nullptr) return;
    d_->cuCtxSetCurrent(ctx_);
    if (stream_ != nullptr) d_->cuStreamSynchronize(stream_);
    for (auto& [key, k] : kernels_) d_->cuModuleUnload(k->module);
    if (sampler_module_ != nullptr) d_->cuModuleUnload(sampler_module_);
    if (reduce_.module != nullptr) d_->cuModuleUnload(reduce_.module);
    for (DeviceBuffer* b : {&u0_, &p_, &saveat_, &soa_, &rowmajor_, &retcodes_, &stats_, &tfinal_,
                            &flag_, &sampler_spec_, &t0s_, &t1s_, &reduce_out_, &edges_, &fired_}) {
      b->Release();
    }
    for (CUevent& e : events_) {
      if (e != nullptr) d_->cuEventDestroy(e);
    }
    if (stream_ != nullptr) d_->cuStreamDestroy(stream_);
    if (control_ != nullptr) d_->cuStreamDestroy(control_);
    d_->cuDevicePrimaryCtxRelease(dev_);
  }

  absl::Status Init() {
    CU_RETURN_IF_ERROR(*d_, cuDeviceGet, &dev_, info_.index);
    CUcontext ctx = nullptr;
    CU_RETURN_IF_ERROR(*d_, cuDevicePrimaryCtxRetain, &ctx, dev_);
    ctx_ = ctx;
    CU_RETURN_IF_ERROR(*d_, cuCtxSetCurrent, ctx_);
    CU_RETURN_IF_ERROR(*d_, cuStreamCreate, &stream_, CU_STREAM_NON_BLOCKING);
    CU_RETURN_IF_ERROR(*d_, cuStreamCreate, &control_, CU_STREAM_NON_BLOCKING);
    for (CUevent& e : events_) CU_RETURN_IF_ERROR(*d_, cuEventCreate, &e, CU_EVENT_DEFAULT);
    if (options_.pinned_host_memory) {
      absl::StatusOr<std::shared_ptr<cuda::PinnedPool>> pool =
          cuda::PinnedPool::Create(d_, dev_, options_.max_cached_pinned_bytes);
      if (!pool.ok()) return pool.status();
      pinned_ = *std::move(pool);
    }
    return absl::OkStatus();
  }

  std::string name() const override { return absl::StrCat("cuda:", info_.index); }
  const GpuDeviceInfo& device() const override { return info_; }
  CudaCompileStats compile_stats() const override {
    absl::MutexLock lock(&mu_);
    return compile_stats_;
  }
  CudaSolveTimings last_timings() const override {
    absl::MutexLock lock(&mu_);
    return timings_;
  }

  absl::StatusOr<std::unique_ptr<PreparedModel>> Prepare(const Model& model,
                                                         const SolveOptions& options) override {
    if (model.num_states() == 0) return absl::InvalidArgumentError("model: has no states");
    if (absl::Status s = CheckStiffModelSize(model, options.algorithm, kMaxStiffStatesCuda, "CUDA");
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckAlgorithmFitsModel(model, options.algorithm); !s.ok()) return s;
    // An SDE method's thread keeps its noise matrices (n x m each) in registers.
    constexpr int64_t kMaxNoiseEntries = 1024;
    const int64_t noise_entries = int64_t{model.num_states()} * model.num_wiener();
    if (GetAlgorithmInfo(options.algorithm).stochastic && noise_entries > kMaxNoiseEntries) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model: the noise matrix has ", model.num_states(), " x ", model.num_wiener(), " = ",
          noise_entries, " entries, over the CUDA backend's limit of ", kMaxNoiseEntries,
          " for SDE methods (a GPU thread keeps it in registers); use fewer states or Wiener "
          "processes"));
    }
    CU_RETURN_IF_ERROR(*d_, cuCtxSetCurrent, ctx_);
    absl::StatusOr<std::vector<ir::NodeId>> selection = model.SelectionRoots(options.outputs);
    if (!selection.ok()) return selection.status();
    const std::string key =
        cuda::KernelKey(model, options.algorithm, options.precision, options.outputs);
    if (auto it = kernels_.find(key); it != kernels_.end()) {
      absl::MutexLock lock(&mu_);
      ++compile_stats_.cache_hits;
      return std::make_unique<CudaPreparedModel>(model, it->second.get());
    }
    absl::StatusOr<cuda::CubinLookup> cubin = cuda::GetOrCompileCubin(
        key, arch_,
        [&] {
          return cuda::GenerateKernelSource(model, options.algorithm, options.precision,
                                            *selection);
        },
        model.is_raw_kernel() ? model.raw_compile_seconds() : 0);
    if (!cubin.ok()) return model.is_raw_kernel() ? RawKernelError(cubin.status()) : cubin.status();
    const auto load_start = Clock::now();
    auto kernel = std::make_unique<cuda::LoadedKernel>();
    kernel->algorithm = options.algorithm;
    kernel->precision = options.precision;
    kernel->outputs = options.outputs;
    ENSOLVE_RETURN_IF_ERROR(cuda::LoadKernel(*d_, cubin->program->cubin, kernel.get()));
    const double load_s = Ms(load_start, Clock::now()) / 1e3;
    {
      absl::MutexLock lock(&mu_);
      if (cubin->compiled_now) {
        ++compile_stats_.compiles;
        compile_stats_.compile_seconds += cubin->program->seconds;
      } else {
        ++compile_stats_.cubin_reuses;
      }
      compile_stats_.load_seconds += load_s;
    }
    const cuda::LoadedKernel* k = kernel.get();
    kernels_.emplace(key, std::move(kernel));
    return std::make_unique<CudaPreparedModel>(model, k);
  }

  absl::StatusOr<BatchResult> Solve(const PreparedModel& prepared, const SolveOptions& options,
                                    const BatchInputs& inputs, const CancelFlag* cancel) override {
    const auto start = Clock::now();
    const auto& pm = static_cast<const CudaPreparedModel&>(prepared);
    if (pm.kernel->algorithm != options.algorithm || pm.kernel->precision != options.precision ||
        pm.kernel->outputs != options.outputs) {
      return absl::InvalidArgumentError(absl::StrCat(
          "options: ", AlgorithmName(options.algorithm), "/", PrecisionName(options.precision),
          " do not match the prepared model (", AlgorithmName(pm.kernel->algorithm), "/",
          PrecisionName(pm.kernel->precision), ")"));
    }
    if (cancel != nullptr && cancel->load()) return absl::CancelledError("batch cancelled");
    if (absl::Status s = CheckSpanInputs(options, inputs); !s.ok()) return s;
    // Sampled inputs stay samplers here: Run() draws them on the device where it can.
    absl::StatusOr<ResolvedInputs> resolved =
        ResolveInputs(pm.model, inputs, /*draw_samples=*/false);
    if (!resolved.ok()) return resolved.status();
    BatchResult result;
    const int num_save = NumSavePoints(options);
    const int width = NumSaved(options, pm.model.num_states());
    bool pinned_result = false;
    // Reductions without states: only the statistics come back (reduce_launch.h).
    const bool keep_states = inputs.reduction == nullptr || inputs.reduction->keep_states;
    if (!keep_states) {
      result.count = inputs.count;
      result.num_save = num_save;
      result.num_states = width;
      result.precision = options.precision;
    } else if (inputs.count > 0 && pinned_ != nullptr) {
      pinned_result = LendResult(inputs.count, num_save, width, options.precision, &result);
    } else {
      result.Resize(inputs.count, num_save, width, options.precision);
    }
    CudaSolveTimings t;
    t.count = inputs.count;
    if (inputs.count > 0) {
      CU_RETURN_IF_ERROR(*d_, cuCtxSetCurrent, ctx_);
      std::vector<std::shared_ptr<void>> staging;  // host memory that copies read from
      const absl::Status s =
          options.precision == Precision::kFloat32
              ? Run<float>(pm, options, *resolved, inputs.reduction, cancel,
                           result.states_f32.data(), result, pinned_result, &staging, &t)
              : Run<double>(pm, options, *resolved, inputs.reduction, cancel,
                            result.states_f64.data(), result, pinned_result, &staging, &t);
      if (!s.ok()) {
        // Copies may still be in flight from the staging or into the result's memory.
        d_->cuStreamSynchronize(stream_);
        return s;
      }
    }
    if (inputs.count == 0 && inputs.reduction != nullptr) {
      result.reduction.emplace();
      result.reduction->Reset(*inputs.reduction);
    }
    t.total_ms = Ms(start, Clock::now());
    absl::MutexLock lock(&mu_);
    timings_ = t;
    return result;
  }

 private:
  // Points `result`'s arrays into one pooled pinned block: the device copies results
  // straight into it, and it goes back to the pool when the result (wherever it went) dies.
  // False when the pool could only lend heap memory.
  bool LendResult(int64_t count, int num_save, int n, Precision precision, BatchResult* result) {
    const size_t elems = static_cast<size_t>(count) * num_save * n;
    const size_t elem_bytes = precision == Precision::kFloat32 ? sizeof(float) : sizeof(double);
    const size_t stats_at = RoundUp(elems * elem_bytes, 64);
    const size_t tfinal_at = RoundUp(stats_at + count * sizeof(TrajectoryStats), 64);
    const size_t codes_at = RoundUp(tfinal_at + count * sizeof(double), 64);
    const size_t fired_at = RoundUp(codes_at + count, 64);
    bool pinned = false;
    std::shared_ptr<void> block = pinned_->Get(fired_at + count * sizeof(int32_t), &pinned);
    char* base = static_cast<char*>(block.get());
    result->count = count;
    result->num_save = num_save;
    result->num_states = n;
    result->precision = precision;
    if (precision == Precision::kFloat32) {
      result->states_f32 = HostArray<float>(reinterpret_cast<float*>(base), elems, block);
    } else {
      result->states_f64 = HostArray<double>(reinterpret_cast<double*>(base), elems, block);
    }
    result->stats = HostArray<TrajectoryStats>(reinterpret_cast<TrajectoryStats*>(base + stats_at),
                                               count, block);
    result->t_final = HostArray<double>(reinterpret_cast<double*>(base + tfinal_at), count, block);
    // Zeros for a model without events; the kernel's counts (copied in Run) otherwise.
    result->events_fired =
        HostArray<int32_t>(reinterpret_cast<int32_t*>(base + fired_at), count, block);
    result->events_fired.Fill(0);
    result->retcodes =
        HostArray<RetCode>(reinterpret_cast<RetCode*>(base + codes_at), count, std::move(block));
    return pinned;
  }

  // Puts the `rows` x `dims` float64 values of one input at `dst`, on the stream: the
  // caller's rows, or rows drawn from `sampler` (on the device for grid and uniform
  // samplers, else on the host into pinned memory). Host memory that the copies read
  // stays alive in `staging` until the caller has synchronized the stream.
  absl::Status PutInput(const double* data, int64_t rows, const Sampler* sampler, int dims,
                        int64_t first, CUdeviceptr dst, std::vector<std::shared_ptr<void>>* staging,
                        CudaSolveTimings* t) {
    const size_t bytes = static_cast<size_t>(rows) * dims * sizeof(double);
    if (bytes == 0) return absl::OkStatus();
    if (sampler == nullptr) {
      CU_RETURN_IF_ERROR(*d_, cuMemcpyHtoDAsync, dst, data, bytes, stream_);
      return absl::OkStatus();
    }
    if (options_.device_sampling && sampler->spec().kind != SamplerKind::kNormal) {
      ++t->inputs_sampled_on_device;
      return SampleOnDevice(*sampler, first, rows, dst, staging);
    }
    const auto start = Clock::now();
    std::shared_ptr<void> host = HostBlock(bytes);
    sampler->Fill(first, rows, static_cast<double*>(host.get()));
    t->host_sampling_ms += Ms(start, Clock::now());
    CU_RETURN_IF_ERROR(*d_, cuMemcpyHtoDAsync, dst, host.get(), bytes, stream_);
    staging->push_back(std::move(host));
    return absl::OkStatus();
  }

  // `bytes` of host memory to copy from: pinned when the backend has a pool.
  std::shared_ptr<void> HostBlock(size_t bytes) {
    if (pinned_ != nullptr) return pinned_->Get(bytes);
    return std::shared_ptr<void>(new char[std::max<size_t>(bytes, 1)],
                                 std::default_delete<char[]>());
  }

  // Rows [first, first + rows) of `sampler` at `dst`, drawn by the kernels of
  // engine/cuda/device/sampler_kernel.cuh (bitwise engine/sampler.cc's values).
  absl::Status SampleOnDevice(const Sampler& sampler, int64_t first, int64_t rows, CUdeviceptr dst,
                              std::vector<std::shared_ptr<void>>* staging) {
    ENSOLVE_RETURN_IF_ERROR(LoadSamplerKernels());
    const SamplerSpec& spec = sampler.spec();
    int dims = sampler.dims();
    const size_t d8 = static_cast<size_t>(dims) * 8;
    // The spec on the device: [lo | hi | points].
    std::shared_ptr<void> host = HostBlock(3 * d8);
    char* h = static_cast<char*>(host.get());
    std::memcpy(h, spec.a.data(), d8);
    std::memcpy(h + d8, spec.b.data(), d8);
    if (spec.kind == SamplerKind::kGrid) std::memcpy(h + 2 * d8, spec.points.data(), d8);
    ENSOLVE_ASSIGN_OR_RETURN(dev, sampler_spec_.Reserve(d_, 3 * d8, "sampler"));
    CU_RETURN_IF_ERROR(*d_, cuMemcpyHtoDAsync, dev, h, 3 * d8, stream_);
    staging->push_back(std::move(host));
    CUdeviceptr out = dst, lo = dev, hi = dev + d8, points = dev + 2 * d8;
    long long row0 = first, count = rows;
    const int64_t blocks = (rows + 255) / 256;
    if (blocks > 2147483647) return absl::InvalidArgumentError("count: too many trajectories");
    if (spec.kind == SamplerKind::kUniform) {
      unsigned long long key = SplitMix64(spec.seed);
      void* params[] = {&out, &lo, &hi, &dims, &key, &row0, &count};
      CU_RETURN_IF_ERROR(*d_, cuLaunchKernel, sample_uniform_, static_cast<unsigned>(blocks), 1, 1,
                         256, 1, 1, 0, stream_, params, nullptr);
    } else {
      long long size = sampler.size();
      void* params[] = {&out, &lo, &hi, &points, &dims, &size, &row0, &count};
      CU_RETURN_IF_ERROR(*d_, cuLaunchKernel, sample_grid_, static_cast<unsigned>(blocks), 1, 1,
                         256, 1, 1, 0, stream_, params, nullptr);
    }
    return absl::OkStatus();
  }

  // The device sampler's module: compiled once per process and architecture, loaded once
  // per device, on the first batch that needs it.
  absl::Status LoadSamplerKernels() {
    if (sampler_module_ != nullptr) return absl::OkStatus();
    absl::StatusOr<cuda::CubinLookup> cubin =
        cuda::GetOrCompileCubin(cuda::kSamplerKernelKey, arch_, cuda::SamplerKernelSource);
    if (!cubin.ok()) return cubin.status();
    CUmodule module = nullptr;
    CU_RETURN_IF_ERROR(*d_, cuModuleLoadData, &module, cubin->program->cubin.data());
    CUresult r = d_->cuModuleGetFunction(&sample_uniform_, module, "ensolve_sample_uniform");
    if (r == CUDA_SUCCESS)
      r = d_->cuModuleGetFunction(&sample_grid_, module, "ensolve_sample_grid");
    if (r != CUDA_SUCCESS) {
      d_->cuModuleUnload(module);
      return cuda::CuStatus(*d_, r, "cuModuleGetFunction");
    }
    sampler_module_ = module;
    return absl::OkStatus();
  }

  template <class T>
  absl::Status Run(const CudaPreparedModel& pm, const SolveOptions& o, const ResolvedInputs& in,
                   const ReductionSpec* reduction, const CancelFlag* cancel, T* out,
                   BatchResult& result, bool pinned_result,
                   std::vector<std::shared_ptr<void>>* staging, CudaSolveTimings* t) {
    const int n = pm.model.num_states(), np = pm.model.num_params();
    const int num_save = NumSaveTimes(o);
    const int rows = std::max(num_save, 1) * NumSaved(o, n);  // output rows per trajectory
    const int64_t count = in.count;
    const size_t out_bytes = static_cast<size_t>(rows) * count * sizeof(T);
    const size_t u0_bytes = static_cast<size_t>(in.u0_rows) * n * sizeof(double);
    const size_t p_bytes = static_cast<size_t>(in.p_rows) * np * sizeof(double);
    const size_t span_bytes = static_cast<size_t>(count) * sizeof(double);
    // Save times in T: one shared row, or [save point][trajectory] so a warp's reads of
    // one save time are contiguous.
    std::vector<T> saveat;
    if (in.saveat != nullptr) {
      saveat.resize(static_cast<size_t>(num_save) * count);
      for (int64_t k = 0; k < count; ++k) {
        for (int i = 0; i < num_save; ++i) {
          saveat[static_cast<size_t>(i) * count + k] = static_cast<T>(in.saveat[k * num_save + i]);
        }
      }
    } else {
      saveat.assign(o.saveat.begin(), o.saveat.end());
    }

    ENSOLVE_ASSIGN_OR_RETURN(u0, u0_.Reserve(d_, u0_bytes, "initial states"));
    ENSOLVE_ASSIGN_OR_RETURN(p, p_.Reserve(d_, p_bytes, "parameters"));
    ENSOLVE_ASSIGN_OR_RETURN(save, saveat_.Reserve(d_, saveat.size() * sizeof(T), "saveat"));
    ENSOLVE_ASSIGN_OR_RETURN(soa, soa_.Reserve(d_, out_bytes, "states"));
    const bool keep_states = reduction == nullptr || reduction->keep_states;
    CUdeviceptr rowmajor = soa;
    if (rows > 1 && keep_states) {
      ENSOLVE_ASSIGN_OR_RETURN(rm, rowmajor_.Reserve(d_, out_bytes, "states (row-major)"));
      rowmajor = rm;
    }
    ENSOLVE_ASSIGN_OR_RETURN(codes, retcodes_.Reserve(d_, count, "return codes"));
    ENSOLVE_ASSIGN_OR_RETURN(stats, stats_.Reserve(d_, count * sizeof(TrajectoryStats), "stats"));
    ENSOLVE_ASSIGN_OR_RETURN(tfinal, tfinal_.Reserve(d_, count * sizeof(double), "final times"));
    ENSOLVE_ASSIGN_OR_RETURN(flag, flag_.Reserve(d_, sizeof(int), "cancel flag"));
    const bool events = pm.model.num_events() > 0;
    CUdeviceptr fired = 0;
    if (events) {
      ENSOLVE_ASSIGN_OR_RETURN(d, fired_.Reserve(d_, count * sizeof(int32_t), "events fired"));
      fired = d;
    }
    CUdeviceptr t0s = 0, t1s = 0;
    if (in.t0 != nullptr) {
      ENSOLVE_ASSIGN_OR_RETURN(d, t0s_.Reserve(d_, span_bytes, "t0"));
      t0s = d;
    }
    if (in.t1 != nullptr) {
      ENSOLVE_ASSIGN_OR_RETURN(d, t1s_.Reserve(d_, span_bytes, "t1"));
      t1s = d;
    }

    CU_RETURN_IF_ERROR(*d_, cuEventRecord, events_[0], stream_);
    ENSOLVE_RETURN_IF_ERROR(
        PutInput(in.u0, in.u0_rows, in.u0_sampler, n, in.first, u0, staging, t));
    ENSOLVE_RETURN_IF_ERROR(PutInput(in.p, in.p_rows, in.p_sampler, np, in.first, p, staging, t));
    if (t0s != 0) CU_RETURN_IF_ERROR(*d_, cuMemcpyHtoDAsync, t0s, in.t0, span_bytes, stream_);
    if (t1s != 0) CU_RETURN_IF_ERROR(*d_, cuMemcpyHtoDAsync, t1s, in.t1, span_bytes, stream_);
    if (num_save > 0) {
      const size_t bytes = saveat.size() * sizeof(T);
      std::shared_ptr<void> host = HostBlock(bytes);
      std::memcpy(host.get(), saveat.data(), bytes);
      CU_RETURN_IF_ERROR(*d_, cuMemcpyHtoDAsync, save, host.get(), bytes, stream_);
      staging->push_back(std::move(host));
    }
    CU_RETURN_IF_ERROR(*d_, cuMemsetD32Async, flag, 0u, 1, stream_);
    // A cancellation written through the control stream must land after this reset.
    CU_RETURN_IF_ERROR(*d_, cuEventRecord, events_[4], stream_);
    CU_RETURN_IF_ERROR(*d_, cuStreamWaitEvent, control_, events_[4], 0);
    if (options_.poison_outputs) {
      CU_RETURN_IF_ERROR(*d_, cuMemsetD8Async, soa, 0xFF, out_bytes, stream_);
      CU_RETURN_IF_ERROR(*d_, cuMemsetD8Async, rowmajor, 0xFF, out_bytes, stream_);
      CU_RETURN_IF_ERROR(*d_, cuMemsetD8Async, codes, 0xFF, count, stream_);
      CU_RETURN_IF_ERROR(*d_, cuMemsetD8Async, stats, 0xFF, count * sizeof(TrajectoryStats),
                         stream_);
      CU_RETURN_IF_ERROR(*d_, cuMemsetD8Async, tfinal, 0xFF, count * sizeof(double), stream_);
    } else if (num_save > 0) {
      // Save points a trajectory never reaches (it stopped early) are NaN (all bits set),
      // as on the CPU.
      CU_RETURN_IF_ERROR(*d_, cuMemsetD8Async, soa, 0xFF, out_bytes, stream_);
    }
    CU_RETURN_IF_ERROR(*d_, cuEventRecord, events_[1], stream_);

    cuda::KernelArgs<T> a;
    a.u0 = u0;
    a.p = p;
    a.saveat = save;
    a.out = soa;
    a.retcodes = codes;
    a.stats = stats;
    a.t_final = tfinal;
    a.cancel = flag;
    a.t0s = t0s;
    a.t1s = t1s;
    a.events_fired = fired;
    a.count = count;
    a.u0_stride = in.u0_rows == 1 ? 0 : n;
    a.p_stride = in.p_rows == 1 ? 0 : np;
    a.save_step = in.saveat != nullptr ? count : 1;
    a.save_stride = in.saveat != nullptr ? 1 : 0;
    a.num_save = num_save;
    a.max_steps = static_cast<int>(std::min<int64_t>(o.max_steps, 2147483647));
    a.t0 = static_cast<T>(o.t0);
    a.t1 = static_cast<T>(o.t1);
    a.dt = static_cast<T>(o.dt);
    a.abstol = static_cast<T>(o.abstol);
    a.reltol = static_cast<T>(o.reltol);
    a.dtmin = static_cast<T>(o.dtmin);
    a.seed = in.seed;
    a.first = in.first;
    const bool adaptive = o.adaptive && IsAdaptiveCapable(o.algorithm);
    ENSOLVE_RETURN_IF_ERROR(cuda::LaunchEnsemble(
        *d_, pm.kernel->solve[adaptive ? 1 : 0][num_save > 0 ? 1 : 0], stream_, count, &a));
    CU_RETURN_IF_ERROR(*d_, cuEventRecord, events_[2], stream_);
    std::shared_ptr<void> reduced;  // the statistics' host copy
    if (reduction != nullptr) {
      ENSOLVE_ASSIGN_OR_RETURN(got,
                               QueueReduction(*reduction, o.precision, soa, codes, count, staging));
      reduced = std::move(got);
    }
    if (rows > 1 && keep_states) {
      ENSOLVE_RETURN_IF_ERROR(
          cuda::LaunchTranspose(*d_, pm.kernel->transpose, stream_, soa, rowmajor, rows, count));
    }
    CU_RETURN_IF_ERROR(*d_, cuEventRecord, events_[3], stream_);
    auto download = [&]() -> absl::Status {
      CU_RETURN_IF_ERROR(*d_, cuMemcpyDtoHAsync, out, rowmajor, out_bytes, stream_);
      CU_RETURN_IF_ERROR(*d_, cuMemcpyDtoHAsync, result.retcodes.data(), codes, count, stream_);
      CU_RETURN_IF_ERROR(*d_, cuMemcpyDtoHAsync, result.stats.data(), stats,
                         count * sizeof(TrajectoryStats), stream_);
      CU_RETURN_IF_ERROR(*d_, cuMemcpyDtoHAsync, result.t_final.data(), tfinal,
                         count * sizeof(double), stream_);
      if (events) {
        CU_RETURN_IF_ERROR(*d_, cuMemcpyDtoHAsync, result.events_fired.data(), fired,
                           count * sizeof(int32_t), stream_);
      }
      CU_RETURN_IF_ERROR(*d_, cuEventRecord, events_[5], stream_);
      return absl::OkStatus();
    };
    // Into pinned memory the results come back in the same stream right behind the
    // kernels (a cancelled batch's copies are wasted; the normal case saves a round trip).
    // A copy into pageable memory would block this thread until the kernel is done, so
    // those wait until Wait() has forwarded any cancellation.
    if (pinned_result) ENSOLVE_RETURN_IF_ERROR(download());
    if (!keep_states) CU_RETURN_IF_ERROR(*d_, cuEventRecord, events_[5], stream_);
    ENSOLVE_RETURN_IF_ERROR(Wait(cancel, flag));
    if (cancel != nullptr && cancel->load()) return absl::CancelledError("batch cancelled");
    if (!pinned_result && keep_states) {
      ENSOLVE_RETURN_IF_ERROR(download());
      CU_RETURN_IF_ERROR(*d_, cuStreamSynchronize, stream_);
    }
    if (reduction != nullptr) {
      ENSOLVE_RETURN_IF_ERROR(DownloadReduction(*reduction, reduced.get()));
      result.reduction.emplace();
      cuda::UnpackReduction(*reduction, reduced.get(), count, &*result.reduction);
    }

    float ms = 0;
    CU_RETURN_IF_ERROR(*d_, cuEventElapsedTime, &ms, events_[3], events_[5]);
    t->download_ms = ms;
    CU_RETURN_IF_ERROR(*d_, cuEventElapsedTime, &ms, events_[0], events_[1]);
    t->upload_ms = ms;
    CU_RETURN_IF_ERROR(*d_, cuEventElapsedTime, &ms, events_[1], events_[2]);
    t->kernel_ms = ms;
    CU_RETURN_IF_ERROR(*d_, cuEventElapsedTime, &ms, events_[2], events_[3]);
    t->transpose_ms = ms;
    return absl::OkStatus();
  }

  // Queues the batch's reduction over the SoA output `soa` and its download into a host
  // block, returned (valid once the stream is synchronized). Pinned host memory is copied
  // into asynchronously; pageable memory only after the stream is done (cuMemcpyDtoHAsync
  // into it would block this thread before Wait() could forward a cancellation): that case
  // downloads in DownloadReduction().
  absl::StatusOr<std::shared_ptr<void>> QueueReduction(
      const ReductionSpec& spec, Precision precision, CUdeviceptr soa, CUdeviceptr codes,
      int64_t count, std::vector<std::shared_ptr<void>>* staging) {
    ENSOLVE_RETURN_IF_ERROR(cuda::LoadReduceKernels(*d_, arch_, &reduce_));
    const cuda::ReduceLayout layout = cuda::ReduceLayout::For(spec);
    ENSOLVE_ASSIGN_OR_RETURN(out, reduce_out_.Reserve(d_, layout.bytes, "reduction"));
    CUdeviceptr edges = 0;
    if (spec.bins > 0) {
      const size_t bytes = spec.edges.size() * sizeof(double);
      ENSOLVE_ASSIGN_OR_RETURN(e, edges_.Reserve(d_, bytes, "histogram edges"));
      std::shared_ptr<void> host = HostBlock(bytes);
      std::memcpy(host.get(), spec.edges.data(), bytes);
      CU_RETURN_IF_ERROR(*d_, cuMemcpyHtoDAsync, e, host.get(), bytes, stream_);
      staging->push_back(std::move(host));
      edges = e;
    }
    ENSOLVE_RETURN_IF_ERROR(
        cuda::LaunchReduce(*d_, reduce_, stream_, precision, spec, soa, codes, count, edges, out));
    std::shared_ptr<void> host = HostBlock(layout.bytes);
    if (pinned_ != nullptr) {
      CU_RETURN_IF_ERROR(*d_, cuMemcpyDtoHAsync, host.get(), out, layout.bytes, stream_);
    }
    return host;
  }

  // The pageable case of QueueReduction: the download, after Wait().
  absl::Status DownloadReduction(const ReductionSpec& spec, void* host) {
    if (pinned_ != nullptr) return absl::OkStatus();
    const cuda::ReduceLayout layout = cuda::ReduceLayout::For(spec);
    ENSOLVE_ASSIGN_OR_RETURN(out, reduce_out_.Reserve(d_, layout.bytes, "reduction"));
    CU_RETURN_IF_ERROR(*d_, cuMemcpyDtoHAsync, host, out, layout.bytes, stream_);
    CU_RETURN_IF_ERROR(*d_, cuStreamSynchronize, stream_);
    return absl::OkStatus();
  }

  // Waits for the stream; while it runs, forwards a cancellation to the kernel's flag
  // through the control stream (the kernel polls it every 256 steps).
  absl::Status Wait(const CancelFlag* cancel, CUdeviceptr flag) {
    if (cancel == nullptr) {
      CU_RETURN_IF_ERROR(*d_, cuStreamSynchronize, stream_);
      return absl::OkStatus();
    }
    const auto start = Clock::now();
    bool signalled = false;
    for (;;) {
      const CUresult r = d_->cuStreamQuery(stream_);
      if (r == CUDA_SUCCESS) return absl::OkStatus();
      if (r != CUDA_ERROR_NOT_READY) return cuda::CuStatus(*d_, r, "cuStreamQuery");
      if (!signalled && cancel->load(std::memory_order_relaxed)) {
        CU_RETURN_IF_ERROR(*d_, cuMemsetD32Async, flag, 1u, 1, control_);
        signalled = true;
      }
      // Spin briefly (small batches finish in well under a millisecond), then sleep.
      if (Ms(start, Clock::now()) < 2.0) {
        std::this_thread::yield();
      } else {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    }
  }

  const Driver* d_;
  const GpuDeviceInfo info_;
  const std::string arch_;
  const CudaBackendOptions options_;
  CUdevice dev_ = 0;
  CUcontext ctx_ = nullptr;
  CUstream stream_ = nullptr;   // all of a batch's work
  CUstream control_ = nullptr;  // cancellation writes, concurrent with a running kernel
  // start, uploaded, kernel done, transposed, flag reset, downloaded
  CUevent events_[6] = {};
  absl::flat_hash_map<std::string, std::unique_ptr<cuda::LoadedKernel>> kernels_;
  DeviceBuffer u0_, p_, saveat_, soa_, rowmajor_, retcodes_, stats_, tfinal_, fired_, flag_,
      sampler_spec_, t0s_, t1s_, reduce_out_, edges_;
  cuda::ReduceKernels reduce_;                // loaded on the first batch that reduces
  std::shared_ptr<cuda::PinnedPool> pinned_;  // null without options_.pinned_host_memory
  CUmodule sampler_module_ = nullptr;         // loaded on the first sampled batch
  CUfunction sample_uniform_ = nullptr, sample_grid_ = nullptr;

  mutable absl::Mutex mu_;
  CudaCompileStats compile_stats_ ABSL_GUARDED_BY(mu_);
  CudaSolveTimings timings_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<CudaBackend>> NewCudaBackend(int device,
                                                            const CudaBackendOptions& options) {
  absl::StatusOr<const Driver*> d = Driver::Get();
  if (!d.ok()) return d.status();
  absl::StatusOr<const cuda::Nvrtc*> nvrtc = cuda::Nvrtc::Get();
  if (!nvrtc.ok()) return nvrtc.status();
  absl::StatusOr<int> count = cuda::DeviceCount(**d);
  if (!count.ok()) return count.status();
  if (device < 0 || device >= *count) {
    return absl::InvalidArgumentError(
        absl::StrCat("device ", device, ": out of range; ", *count, " CUDA device(s) present"));
  }
  absl::StatusOr<GpuDeviceInfo> info = cuda::QueryDevice(**d, device);
  if (!info.ok()) return info.status();
  CudaBackendOptions o = options;
  auto off = [](const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && std::string(v) == "0";
  };
  if (off("ENSOLVE_CUDA_DEVICE_SAMPLING")) o.device_sampling = false;
  if (off("ENSOLVE_CUDA_PINNED")) o.pinned_host_memory = false;
  auto backend = std::make_unique<CudaBackendImpl>(*d, *std::move(info), o);
  if (absl::Status s = backend->Init(); !s.ok()) return s;
  return backend;
}

}  // namespace ensolve
