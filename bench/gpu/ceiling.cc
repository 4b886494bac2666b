#include "bench/gpu/ceiling.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "engine/cuda/internal/device_buffer.h"
#include "engine/cuda/internal/device_info.h"
#include "engine/cuda/internal/driver.h"
#include "engine/cuda/internal/nvrtc.h"

namespace ensolve::bench {
namespace {

using cuda::Driver;

class CeilingImpl : public CeilingKernel {
 public:
  explicit CeilingImpl(const Driver* d) : d_(d) {}
  ~CeilingImpl() override {
    if (ctx_ == nullptr) return;
    d_->cuCtxSetCurrent(ctx_);
    p_.Release();
    out_.Release();
    if (module_ != nullptr) d_->cuModuleUnload(module_);
    for (CUevent e : ev_) {
      if (e != nullptr) d_->cuEventDestroy(e);
    }
    if (stream_ != nullptr) d_->cuStreamDestroy(stream_);
    d_->cuDevicePrimaryCtxRelease(dev_);
  }

  absl::Status Init(int device, const std::string& source) {
    absl::StatusOr<GpuDeviceInfo> info = cuda::QueryDevice(*d_, device);
    if (!info.ok()) return info.status();
    absl::StatusOr<const cuda::Nvrtc*> nvrtc = cuda::Nvrtc::Get();
    if (!nvrtc.ok()) return nvrtc.status();
    const std::string arch =
        absl::StrCat("sm_", info->compute_capability_major, info->compute_capability_minor);
    absl::StatusOr<cuda::CompiledProgram> prog =
        (*nvrtc)->Compile(source, "ceiling_lorenz.cu", {}, arch);
    if (!prog.ok()) return prog.status();
    log_ = prog->log;
    CU_RETURN_IF_ERROR(*d_, cuDeviceGet, &dev_, device);
    CUcontext ctx = nullptr;
    CU_RETURN_IF_ERROR(*d_, cuDevicePrimaryCtxRetain, &ctx, dev_);
    ctx_ = ctx;
    CU_RETURN_IF_ERROR(*d_, cuCtxSetCurrent, ctx_);
    CU_RETURN_IF_ERROR(*d_, cuStreamCreate, &stream_, CU_STREAM_NON_BLOCKING);
    for (CUevent& e : ev_) CU_RETURN_IF_ERROR(*d_, cuEventCreate, &e, CU_EVENT_DEFAULT);
    CU_RETURN_IF_ERROR(*d_, cuModuleLoadData, &module_, prog->cubin.data());
    const char* names[4] = {"lorenz_fixed_f32", "lorenz_adaptive_f32", "lorenz_fixed_f64",
                            "lorenz_adaptive_f64"};
    for (int k = 0; k < 4; ++k) {
      CU_RETURN_IF_ERROR(*d_, cuModuleGetFunction, &fn_[k], module_, names[k]);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<double> Run(Precision precision, bool adaptive, const double* p, long long n,
                             double t1, double dt, double tol,
                             std::vector<double>* final_state) override {
    CU_RETURN_IF_ERROR(*d_, cuCtxSetCurrent, ctx_);
    const bool f32 = precision == Precision::kFloat32;
    const size_t elem = f32 ? 4 : 8;
    auto pp = p_.Reserve(d_, n * 3 * sizeof(double), "p");
    if (!pp.ok()) return pp.status();
    auto out = out_.Reserve(d_, n * 3 * elem, "out");
    if (!out.ok()) return out.status();
    CUdeviceptr pd = *pp, od = *out;
    CU_RETURN_IF_ERROR(*d_, cuMemcpyHtoDAsync, pd, p, n * 3 * sizeof(double), stream_);
    float t1f = static_cast<float>(t1), dtf = static_cast<float>(dt),
          tolf = static_cast<float>(tol);
    void* params32[] = {&pd, &od, &n, &t1f, &dtf, &tolf};
    void* params64[] = {&pd, &od, &n, &t1, &dt, &tol};
    CUfunction fn = fn_[(f32 ? 0 : 2) + (adaptive ? 1 : 0)];
    const unsigned blocks = static_cast<unsigned>((n + 127) / 128);
    CU_RETURN_IF_ERROR(*d_, cuEventRecord, ev_[0], stream_);
    CU_RETURN_IF_ERROR(*d_, cuLaunchKernel, fn, blocks, 1, 1, 128, 1, 1, 0, stream_,
                       f32 ? params32 : params64, nullptr);
    CU_RETURN_IF_ERROR(*d_, cuEventRecord, ev_[1], stream_);
    CU_RETURN_IF_ERROR(*d_, cuStreamSynchronize, stream_);
    float ms = 0;
    CU_RETURN_IF_ERROR(*d_, cuEventElapsedTime, &ms, ev_[0], ev_[1]);
    if (final_state != nullptr) {
      std::vector<char> raw(n * 3 * elem);
      CU_RETURN_IF_ERROR(*d_, cuMemcpyDtoHAsync, raw.data(), od, raw.size(), stream_);
      CU_RETURN_IF_ERROR(*d_, cuStreamSynchronize, stream_);
      final_state->resize(n * 3);
      for (long long i = 0; i < n; ++i) {
        for (int s = 0; s < 3; ++s) {
          (*final_state)[3 * i + s] = f32 ? reinterpret_cast<const float*>(raw.data())[s * n + i]
                                          : reinterpret_cast<const double*>(raw.data())[s * n + i];
        }
      }
    }
    return static_cast<double>(ms);
  }

 private:
  const Driver* d_;
  CUdevice dev_ = 0;
  CUcontext ctx_ = nullptr;
  CUstream stream_ = nullptr;
  CUevent ev_[2] = {};
  CUmodule module_ = nullptr;
  CUfunction fn_[4] = {};
  cuda::DeviceBuffer p_, out_;
  std::string log_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CeilingKernel>> CeilingKernel::Create(
    int device, const std::string& source_path) {
  std::ifstream in(source_path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", source_path));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<const Driver*> d = Driver::Get();
  if (!d.ok()) return d.status();
  auto k = std::make_unique<CeilingImpl>(*d);
  if (absl::Status s = k->Init(device, text.str()); !s.ok()) return s;
  return k;
}

}  // namespace ensolve::bench
