// Process-wide cache of NVRTC output, keyed by (kernel key, architecture): devices of the
// same architecture load one compilation. Each device still loads its own module.
//
// Thread-safety: thread-safe. A compilation holds the cache's lock, so two devices asking
// for the same new kernel at once compile it once.
#ifndef ENSOLVE_ENGINE_CUDA_INTERNAL_CUBIN_CACHE_H_
#define ENSOLVE_ENGINE_CUDA_INTERNAL_CUBIN_CACHE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/cuda/internal/nvrtc.h"

namespace ensolve::cuda {

struct CubinLookup {
  std::shared_ptr<const CompiledProgram> program;
  bool compiled_now = false;  // false: an earlier compilation was reused
};

// The cubin for `key` on `arch`, compiled from source() on first use (in at most
// `max_seconds` when > 0: Nvrtc::Compile). Failed compilations are not cached.
absl::StatusOr<CubinLookup> GetOrCompileCubin(const std::string& key, const std::string& arch,
                                              const std::function<std::string()>& source,
                                              double max_seconds = 0);

}  // namespace ensolve::cuda

#endif  // ENSOLVE_ENGINE_CUDA_INTERNAL_CUBIN_CACHE_H_
