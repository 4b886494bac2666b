#include "engine/cuda/internal/nvrtc.h"

#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ensolve::cuda {
namespace {

void* OpenFirst(std::vector<std::string>* tried) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("ENSOLVE_NVRTC"); env != nullptr && *env != '\0') {
    candidates.push_back(env);
  }
  for (const char* c : {"libnvrtc.so.13", "libnvrtc.so", "/usr/local/cuda/lib64/libnvrtc.so.13",
                        "/usr/local/cuda/lib64/libnvrtc.so",
                        "/usr/local/cuda/targets/x86_64-linux/lib/libnvrtc.so"}) {
    candidates.push_back(c);
  }
  for (const std::string& c : candidates) {
    tried->push_back(c);
    if (void* lib = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL)) return lib;
  }
  return nullptr;
}

// A compile's deadline, read by NVRTC's flow callback (on NVRTC's thread).
struct Deadline {
  std::chrono::steady_clock::time_point at;
  std::atomic<bool> passed{false};
};

// Once it returns 1 it must keep doing so (nvrtc.h): `passed` latches.
int PastDeadline(void* payload, void*) {
  auto* d = static_cast<Deadline*>(payload);
  if (!d->passed.load() && std::chrono::steady_clock::now() > d->at) d->passed.store(true);
  return d->passed.load() ? 1 : 0;
}

}  // namespace

absl::StatusOr<const Nvrtc*> Nvrtc::Get() {
  static const absl::StatusOr<const Nvrtc*>* nvrtc = new absl::StatusOr<const Nvrtc*>(Load());
  return *nvrtc;
}

absl::StatusOr<const Nvrtc*> Nvrtc::Load() {
  std::vector<std::string> tried;
  void* lib = OpenFirst(&tried);
  if (lib == nullptr) {
    return absl::UnavailableError(absl::StrCat("no NVRTC (libnvrtc not found; tried ",
                                               absl::StrJoin(tried, ", "),
                                               "; set ENSOLVE_NVRTC to its path)"));
  }
  static Nvrtc n;
  const char* missing = nullptr;
  auto load = [&](auto& fn, const char* symbol) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, symbol));
    if (fn == nullptr && missing == nullptr) missing = symbol;
  };
  load(n.GetErrorString, "nvrtcGetErrorString");
  load(n.Version, "nvrtcVersion");
  load(n.CreateProgram, "nvrtcCreateProgram");
  load(n.DestroyProgram, "nvrtcDestroyProgram");
  load(n.CompileProgram, "nvrtcCompileProgram");
  load(n.GetCUBINSize, "nvrtcGetCUBINSize");
  load(n.GetCUBIN, "nvrtcGetCUBIN");
  load(n.GetProgramLogSize, "nvrtcGetProgramLogSize");
  load(n.GetProgramLog, "nvrtcGetProgramLog");
  if (missing != nullptr) {
    return absl::UnavailableError(absl::StrCat("NVRTC too old: no symbol ", missing));
  }
  load(n.SetFlowCallback, "nvrtcSetFlowCallback");  // optional
  missing = nullptr;
  return &n;
}

std::string Nvrtc::version() const {
  int major = 0, minor = 0;
  if (Version(&major, &minor) != NVRTC_SUCCESS) return "?";
  return absl::StrCat(major, ".", minor);
}

absl::StatusOr<CompiledProgram> Nvrtc::Compile(const std::string& source, const std::string& name,
                                               const std::vector<NamedHeader>& headers,
                                               const std::string& arch,
                                               const std::vector<std::string>& extra_options,
                                               double max_seconds) const {
  const auto start = std::chrono::steady_clock::now();
  auto fail = [this](nvrtcResult r, const char* call) {
    return absl::InternalError(absl::StrCat(call, " failed: ", GetErrorString(r)));
  };
  std::vector<const char*> header_texts, header_names;
  for (const NamedHeader& h : headers) {
    header_names.push_back(h.name.c_str());
    header_texts.push_back(h.text);
  }
  nvrtcProgram prog = nullptr;
  nvrtcResult r =
      CreateProgram(&prog, source.c_str(), name.c_str(), static_cast<int>(headers.size()),
                    header_texts.data(), header_names.data());
  if (r != NVRTC_SUCCESS) return fail(r, "nvrtcCreateProgram");
  struct Destroy {
    const Nvrtc* n;
    nvrtcProgram* p;
    ~Destroy() { n->DestroyProgram(p); }
  } destroy{this, &prog};
  Deadline deadline{start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(max_seconds))};
  if (max_seconds > 0) {
    if (SetFlowCallback == nullptr) {
      return absl::UnavailableError(
          "this NVRTC has no nvrtcSetFlowCallback, so a compile time limit cannot be kept");
    }
    if ((r = SetFlowCallback(prog, PastDeadline, &deadline)) != NVRTC_SUCCESS) {
      return fail(r, "nvrtcSetFlowCallback");
    }
  }

  std::vector<std::string> options = {"--gpu-architecture=" + arch, "-std=c++17",
                                      "--ptxas-options=-v"};
  options.insert(options.end(), extra_options.begin(), extra_options.end());
  std::vector<const char*> opts;
  for (const std::string& o : options) opts.push_back(o.c_str());
  const nvrtcResult compiled = CompileProgram(prog, static_cast<int>(opts.size()), opts.data());

  CompiledProgram out;
  size_t log_size = 0;
  if ((r = GetProgramLogSize(prog, &log_size)) != NVRTC_SUCCESS) {
    return fail(r, "nvrtcGetProgramLogSize");
  }
  out.log.resize(log_size);
  if (log_size > 0 && (r = GetProgramLog(prog, out.log.data())) != NVRTC_SUCCESS) {
    return fail(r, "nvrtcGetProgramLog");
  }
  while (!out.log.empty() && out.log.back() == '\0') out.log.pop_back();
  if (compiled == NVRTC_ERROR_COMPILATION) {
    return absl::InvalidArgumentError(
        absl::StrCat("nvrtcCompileProgram failed for ", name, " (", arch, "):\n", out.log));
  }
  if (compiled == NVRTC_ERROR_CANCELLED || (max_seconds > 0 && deadline.passed.load())) {
    return absl::DeadlineExceededError(absl::StrCat("nvrtcCompileProgram of ", name,
                                                    " was stopped after the limit of ", max_seconds,
                                                    " s of compile time"));
  }
  if (compiled != NVRTC_SUCCESS) return fail(compiled, "nvrtcCompileProgram");
  size_t size = 0;
  if ((r = GetCUBINSize(prog, &size)) != NVRTC_SUCCESS) return fail(r, "nvrtcGetCUBINSize");
  out.cubin.resize(size);
  if ((r = GetCUBIN(prog, out.cubin.data())) != NVRTC_SUCCESS) return fail(r, "nvrtcGetCUBIN");
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace ensolve::cuda
