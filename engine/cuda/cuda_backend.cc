// The CUDA backend: NVRTC-compiled ensemble kernels (one thread per trajectory), a
// per-device module cache, pooled device memory, and a warm context and streams.
#include "engine/cuda/cuda_backend.h"

#include <algorithm>
#include <chrono>
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
#include "engine/solve_inputs.h"

namespace ensolve {
namespace {

using cuda::DeviceBuffer;
using cuda::Driver;
using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

#define ENSOLVE_RETURN_IF_ERROR(expr)    \
  do {                                   \
    const absl::Status status_ = (expr); \
    if (!status_.ok()) return status_;   \
  } while (0)

#define ENSOLVE_ASSIGN_OR_RETURN(lhs, expr)     \
  auto lhs##_or = (expr);                       \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  auto lhs = *lhs##_or

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
    for (DeviceBuffer* b : {&u0_, &p_, &saveat_, &soa_, &rowmajor_, &retcodes_, &stats_, &flag_}) {
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
    CU_RETURN_IF_ERROR(*d_, cuCtxSetCurrent, ctx_);
    const std::string key = cuda::KernelKey(model, options.algorithm, options.precision);
    if (auto it = kernels_.find(key); it != kernels_.end()) {
      absl::MutexLock lock(&mu_);
      ++compile_stats_.cache_hits;
      return std::make_unique<CudaPreparedModel>(model, it->second.get());
    }
    absl::StatusOr<cuda::CubinLookup> cubin = cuda::GetOrCompileCubin(key, arch_, [&] {
      return cuda::GenerateKernelSource(model, options.algorithm, options.precision);
    });
    if (!cubin.ok()) return cubin.status();
    const auto load_start = Clock::now();
    auto kernel = std::make_unique<cuda::LoadedKernel>();
    kernel->algorithm = options.algorithm;
    kernel->precision = options.precision;
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
    if (pm.kernel->algorithm != options.algorithm || pm.kernel->precision != options.precision) {
      return absl::InvalidArgumentError(absl::StrCat(
          "options: ", AlgorithmName(options.algorithm), "/", PrecisionName(options.precision),
          " do not match the prepared model (", AlgorithmName(pm.kernel->algorithm), "/",
          PrecisionName(pm.kernel->precision), ")"));
    }
    if (cancel != nullptr && cancel->load()) return absl::CancelledError("batch cancelled");
    absl::StatusOr<ResolvedInputs> resolved = ResolveInputs(pm.model, inputs);
    if (!resolved.ok()) return resolved.status();
    BatchResult result;
    result.Resize(inputs.count, NumSavePoints(options), pm.model.num_states(), options.precision);
    CudaSolveTimings t;
    t.count = inputs.count;
    if (inputs.count > 0) {
      CU_RETURN_IF_ERROR(*d_, cuCtxSetCurrent, ctx_);
      const absl::Status s =
          options.precision == Precision::kFloat32
              ? Run<float>(pm, options, *resolved, cancel, result.states_f32.data(), result, &t)
              : Run<double>(pm, options, *resolved, cancel, result.states_f64.data(), result, &t);
      if (!s.ok()) return s;
    }
    t.total_ms = Ms(start, Clock::now());
    absl::MutexLock lock(&mu_);
    timings_ = t;
    return result;
  }

 private:
  template <class T>
  absl::Status Run(const CudaPreparedModel& pm, const SolveOptions& o, const ResolvedInputs& in,
                   const CancelFlag* cancel, T* out, BatchResult& result, CudaSolveTimings* t) {
    const int n = pm.model.num_states(), np = pm.model.num_params();
    const int num_save = static_cast<int>(o.saveat.size());
    const int rows = std::max(num_save, 1) * n;  // output rows per trajectory
    const int64_t count = in.count;
    const size_t out_bytes = static_cast<size_t>(rows) * count * sizeof(T);
    const size_t u0_bytes = static_cast<size_t>(in.u0_rows) * n * sizeof(double);
    const size_t p_bytes = static_cast<size_t>(in.p_rows) * np * sizeof(double);
    const std::vector<T> saveat(o.saveat.begin(), o.saveat.end());

    ENSOLVE_ASSIGN_OR_RETURN(u0, u0_.Reserve(d_, u0_bytes, "initial states"));
    ENSOLVE_ASSIGN_OR_RETURN(p, p_.Reserve(d_, p_bytes, "parameters"));
    ENSOLVE_ASSIGN_OR_RETURN(save, saveat_.Reserve(d_, saveat.size() * sizeof(T), "saveat"));
    ENSOLVE_ASSIGN_OR_RETURN(soa, soa_.Reserve(d_, out_bytes, "states"));
    CUdeviceptr rowmajor = soa;
    if (rows > 1) {
      ENSOLVE_ASSIGN_OR_RETURN(rm, rowmajor_.Reserve(d_, out_bytes, "states (row-major)"));
      rowmajor = rm;
    }
    ENSOLVE_ASSIGN_OR_RETURN(codes, retcodes_.Reserve(d_, count, "return codes"));
    ENSOLVE_ASSIGN_OR_RETURN(stats, stats_.Reserve(d_, count * sizeof(TrajectoryStats), "stats"));
    ENSOLVE_ASSIGN_OR_RETURN(flag, flag_.Reserve(d_, sizeof(int), "cancel flag"));

    CU_RETURN_IF_ERROR(*d_, cuEventRecord, events_[0], stream_);
    CU_RETURN_IF_ERROR(*d_, cuMemcpyHtoDAsync, u0, in.u0, u0_bytes, stream_);
    if (p_bytes > 0) CU_RETURN_IF_ERROR(*d_, cuMemcpyHtoDAsync, p, in.p, p_bytes, stream_);
    if (num_save > 0) {
      CU_RETURN_IF_ERROR(*d_, cuMemcpyHtoDAsync, save, saveat.data(), saveat.size() * sizeof(T),
                         stream_);
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
    }
    CU_RETURN_IF_ERROR(*d_, cuEventRecord, events_[1], stream_);

    cuda::KernelArgs<T> a;
    a.u0 = u0;
    a.p = p;
    a.saveat = save;
    a.out = soa;
    a.retcodes = codes;
    a.stats = stats;
    a.cancel = flag;
    a.count = count;
    a.u0_stride = in.u0_rows == 1 ? 0 : n;
    a.p_stride = in.p_rows == 1 ? 0 : np;
    a.num_save = num_save;
    a.max_steps = static_cast<int>(std::min<int64_t>(o.max_steps, 2147483647));
    a.t0 = static_cast<T>(o.t0);
    a.t1 = static_cast<T>(o.t1);
    a.dt = static_cast<T>(o.dt);
    a.abstol = static_cast<T>(o.abstol);
    a.reltol = static_cast<T>(o.reltol);
    a.dtmin = static_cast<T>(o.dtmin);
    const bool adaptive = o.adaptive && IsAdaptiveCapable(o.algorithm);
    ENSOLVE_RETURN_IF_ERROR(cuda::LaunchEnsemble(
        *d_, pm.kernel->solve[adaptive ? 1 : 0][num_save > 0 ? 1 : 0], stream_, count, &a));
    CU_RETURN_IF_ERROR(*d_, cuEventRecord, events_[2], stream_);
    if (rows > 1) {
      ENSOLVE_RETURN_IF_ERROR(
          cuda::LaunchTranspose(*d_, pm.kernel->transpose, stream_, soa, rowmajor, rows, count));
    }
    CU_RETURN_IF_ERROR(*d_, cuEventRecord, events_[3], stream_);
    ENSOLVE_RETURN_IF_ERROR(Wait(cancel, flag));
    if (cancel != nullptr && cancel->load()) return absl::CancelledError("batch cancelled");

    const auto download = Clock::now();
    CU_RETURN_IF_ERROR(*d_, cuMemcpyDtoHAsync, out, rowmajor, out_bytes, stream_);
    CU_RETURN_IF_ERROR(*d_, cuMemcpyDtoHAsync, result.retcodes.data(), codes, count, stream_);
    CU_RETURN_IF_ERROR(*d_, cuMemcpyDtoHAsync, result.stats.data(), stats,
                       count * sizeof(TrajectoryStats), stream_);
    CU_RETURN_IF_ERROR(*d_, cuStreamSynchronize, stream_);
    t->download_ms = Ms(download, Clock::now());
    float ms = 0;
    CU_RETURN_IF_ERROR(*d_, cuEventElapsedTime, &ms, events_[0], events_[1]);
    t->upload_ms = ms;
    CU_RETURN_IF_ERROR(*d_, cuEventElapsedTime, &ms, events_[1], events_[2]);
    t->kernel_ms = ms;
    CU_RETURN_IF_ERROR(*d_, cuEventElapsedTime, &ms, events_[2], events_[3]);
    t->transpose_ms = ms;
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
  CUevent events_[5] = {};      // start, uploaded, kernel done, transposed, flag reset
  absl::flat_hash_map<std::string, std::unique_ptr<cuda::LoadedKernel>> kernels_;
  DeviceBuffer u0_, p_, saveat_, soa_, rowmajor_, retcodes_, stats_, flag_;

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
  auto backend = std::make_unique<CudaBackendImpl>(*d, *std::move(info), options);
  if (absl::Status s = backend->Init(); !s.ok()) return s;
  return backend;
}

}  // namespace ensolve
