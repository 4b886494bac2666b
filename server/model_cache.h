// Parsed models kept by content, so a model sent with every request is parsed once, and
// can later be named by its id (the content hash) instead of its text.
//
// Thread-safety: every method is safe to call concurrently. Models are immutable and
// handed out as shared_ptr: a job keeps its model alive even if the cache evicts it.
#ifndef ENSOLVE_SERVER_MODEL_CACHE_H_
#define ENSOLVE_SERVER_MODEL_CACHE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "engine/model/limits.h"
#include "engine/model/model.h"
#include "engine/model/raw_kernel.h"

namespace ensolve::server {

class Metrics;

class ModelCache {
 public:
  // Keeps up to `capacity` models and about `max_bytes` of them (ModelBytes() each),
  // evicting the least recently used. `metrics` may be null.
  ModelCache(int capacity, int64_t max_bytes, ModelLimits limits, Metrics* metrics);

  // What a cached model of `source_bytes` of text is counted as: the text twice (key and
  // model) and its graph, about 64 bytes per source byte (docs/reliability.md).
  static int64_t ModelBytes(size_t source_bytes);

  // Every entry belongs to one tenant: another tenant's models are not found, are not
  // `cached` for it and share nothing with its own (a hit, a miss or an id tells nothing
  // about what other tenants sent; the same text sent by two tenants is parsed twice).

  // The model for `source`: from the tenant's cache, or parsed (Model::Parse's
  // INVALID_ARGUMENT on bad text, passed through). `*cached` (may be null) tells which.
  absl::StatusOr<std::shared_ptr<const Model>> GetOrParse(absl::string_view tenant,
                                                          absl::string_view source,
                                                          bool* cached = nullptr);
  // The same for a raw kernel (engine/model/raw_kernel.h), keyed by RawKernelKey(spec):
  // BuildRawKernelModel's INVALID_ARGUMENT passed through.
  absl::StatusOr<std::shared_ptr<const Model>> GetOrBuildRawKernel(absl::string_view tenant,
                                                                   const RawKernelSpec& spec,
                                                                   bool* cached = nullptr);
  // Whether `source` is cached now (GetOrParse would not parse it, unless evicted meanwhile).
  bool Contains(absl::string_view tenant, absl::string_view source) const;
  // The tenant's cached model with this id, or NOT_FOUND.
  absl::StatusOr<std::shared_ptr<const Model>> Find(absl::string_view tenant, absl::string_view id);

  // The forward sensitivity model of `base` for the parameters `params` (indices; see
  // engine/model/sensitivity.h), cached by (base id, parameter list) beside the models,
  // counted as (1 + parameters) x ModelBytes of the base text; built on a miss
  // (BuildSensitivityModel's errors passed through).
  absl::StatusOr<std::shared_ptr<const Model>> GetOrBuildSensitivityModel(
      absl::string_view tenant, const std::shared_ptr<const Model>& base,
      const std::vector<int>& params, bool* cached = nullptr);
  // Whether the sensitivity model for the model with this text (or, with `by_id`, this id)
  // and these parameter names is cached now.
  bool ContainsSensitivityModel(absl::string_view tenant, absl::string_view source_or_id,
                                bool by_id, const std::vector<std::string>& names) const;

  int size() const;
  int64_t bytes() const;

 private:
  struct Entry {
    std::shared_ptr<const Model> model;
    std::string id_key;  // Scoped(tenant, model id): its source_by_id_ key
    int64_t bytes = 0;   // ModelBytes of its text
    uint64_t last_use = 0;
  };
  // The model keyed by `source` in the tenant's part, from build() on a miss.
  absl::StatusOr<std::shared_ptr<const Model>> GetOrBuild(
      absl::string_view tenant, absl::string_view source,
      const std::function<absl::StatusOr<std::unique_ptr<Model>>()>& build, bool* cached);
  void Touch(Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { e.last_use = ++clock_; }
  void EvictIfFull() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  struct SensitivityEntry {
    std::shared_ptr<const Model> model;
    int64_t bytes = 0;
    uint64_t last_use = 0;
  };
  static std::string SensitivityKey(absl::string_view scoped_id,
                                    const std::vector<std::string>& names);
  // `key` within the tenant's part of the maps (length-prefixed: no two pairs collide).
  static std::string Scoped(absl::string_view tenant, absl::string_view key);

  const int capacity_;
  const int64_t max_bytes_;
  const ModelLimits limits_;
  Metrics* const metrics_;
  mutable absl::Mutex mu_;
  // Keyed by Scoped(tenant, source text): a hit needs no parse and no hashing beyond the
  // map's.
  absl::flat_hash_map<std::string, Entry> by_source_ ABSL_GUARDED_BY(mu_);
  // Scoped(tenant, id) -> key in by_source_.
  absl::flat_hash_map<std::string, std::string> source_by_id_ ABSL_GUARDED_BY(mu_);
  // SensitivityKey -> sensitivity model; evicted with the models, least recently used first.
  absl::flat_hash_map<std::string, SensitivityEntry> sensitivity_ ABSL_GUARDED_BY(mu_);
  uint64_t clock_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_MODEL_CACHE_H_
