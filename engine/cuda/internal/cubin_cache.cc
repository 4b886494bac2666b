#include "engine/cuda/internal/cubin_cache.h"

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/cuda/codegen.h"

namespace ensolve::cuda {
namespace {

struct Cache {
  absl::Mutex mu;
  absl::flat_hash_map<std::string, std::shared_ptr<const CompiledProgram>> programs
      ABSL_GUARDED_BY(mu);
};

Cache& TheCache() {
  static Cache* cache = new Cache;
  return *cache;
}

}  // namespace

absl::StatusOr<CubinLookup> GetOrCompileCubin(const std::string& key, const std::string& arch,
                                              const std::function<std::string()>& source,
                                              double max_seconds) {
  Cache& cache = TheCache();
  const std::string full_key = absl::StrCat(key, "@", arch);
  absl::MutexLock lock(&cache.mu);
  if (auto it = cache.programs.find(full_key); it != cache.programs.end()) {
    return CubinLookup{it->second, false};
  }
  absl::StatusOr<const Nvrtc*> nvrtc = Nvrtc::Get();
  if (!nvrtc.ok()) return nvrtc.status();
  absl::StatusOr<CompiledProgram> program =
      (*nvrtc)->Compile(source(), absl::StrCat(key, ".cu"), KernelHeaders(), arch, {}, max_seconds);
  if (!program.ok()) return program.status();
  auto shared = std::make_shared<const CompiledProgram>(*std::move(program));
  cache.programs.emplace(full_key, shared);
  return CubinLookup{shared, true};
}

}  // namespace ensolve::cuda
