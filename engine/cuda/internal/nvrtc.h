// NVRTC, loaded at run time with dlopen (it needs no GPU): compiles CUDA C++ source to a
// cubin for one architecture. Every call's result becomes an absl::Status naming the call.
//
// Thread-safety: Nvrtc::Get() loads once (thread-safe); Compile() is thread-safe.
#ifndef ENSOLVE_ENGINE_CUDA_INTERNAL_NVRTC_H_
#define ENSOLVE_ENGINE_CUDA_INTERNAL_NVRTC_H_

#include <nvrtc.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace ensolve::cuda {

struct CompiledProgram {
  std::string cubin;
  std::string log;  // compiler messages (warnings, ptxas -v info)
  double seconds = 0.0;
};

// A header made available to #include under `name`, without any include path.
struct NamedHeader {
  std::string name;
  const char* text;
};

class Nvrtc {
 public:
  // The loaded library, or UNAVAILABLE naming where it was looked for. Searched in order:
  // $ENSOLVE_NVRTC (a path), libnvrtc.so.13, libnvrtc.so, then /usr/local/cuda/lib64.
  static absl::StatusOr<const Nvrtc*> Get();

  // Compiles `source` (named `name` in messages) for `arch` ("sm_90"). Compilation errors
  // are INVALID_ARGUMENT with the compiler log; a failing NVRTC call is INTERNAL. With
  // `max_seconds` > 0, NVRTC is asked to stop once that much time has passed
  // (nvrtcSetFlowCallback): then DEADLINE_EXCEEDED.
  absl::StatusOr<CompiledProgram> Compile(const std::string& source, const std::string& name,
                                          const std::vector<NamedHeader>& headers,
                                          const std::string& arch,
                                          const std::vector<std::string>& extra_options = {},
                                          double max_seconds = 0) const;

  // "13.0".
  std::string version() const;

 private:
  Nvrtc() = default;
  static absl::StatusOr<const Nvrtc*> Load();

  const char* (*GetErrorString)(nvrtcResult);
  nvrtcResult (*Version)(int*, int*);
  nvrtcResult (*CreateProgram)(nvrtcProgram*, const char*, const char*, int, const char* const*,
                               const char* const*);
  nvrtcResult (*DestroyProgram)(nvrtcProgram*);
  nvrtcResult (*CompileProgram)(nvrtcProgram, int, const char* const*);
  nvrtcResult (*GetCUBINSize)(nvrtcProgram, size_t*);
  nvrtcResult (*GetCUBIN)(nvrtcProgram, char*);
  nvrtcResult (*GetProgramLogSize)(nvrtcProgram, size_t*);
  nvrtcResult (*GetProgramLog)(nvrtcProgram, char*);
  // Null in an NVRTC without it (before 12.x): then a compile with a deadline is refused.
  nvrtcResult (*SetFlowCallback)(nvrtcProgram, int (*)(void*, void*), void*) = nullptr;
};

}  // namespace ensolve::cuda

#endif  // ENSOLVE_ENGINE_CUDA_INTERNAL_NVRTC_H_
