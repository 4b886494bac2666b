#include "server/model_cache.h"

#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/model/raw_kernel.h"
#include "engine/model/sensitivity.h"
#include "server/client_text.h"
#include "server/metrics.h"

namespace ensolve::server {

ModelCache::ModelCache(int capacity, int64_t max_bytes, ModelLimits limits, Metrics* metrics)
    : capacity_(capacity < 1 ? 1 : capacity),
      max_bytes_(max_bytes),
      limits_(limits),
      metrics_(metrics) {}

int64_t ModelCache::ModelBytes(size_t source_bytes) {
  return static_cast<int64_t>(source_bytes) * (2 + 64);
}

std::string ModelCache::Scoped(absl::string_view tenant, absl::string_view key) {
  return absl::StrCat(tenant.size(), ":", tenant, "/", key);
}

absl::StatusOr<std::shared_ptr<const Model>> ModelCache::GetOrParse(absl::string_view tenant,
                                                                    absl::string_view source,
                                                                    bool* cached) {
  return GetOrBuild(
      tenant, source,
      [&] { return Model::Parse(std::string_view(source.data(), source.size()), limits_); },
      cached);
}

absl::StatusOr<std::shared_ptr<const Model>> ModelCache::GetOrBuildRawKernel(
    absl::string_view tenant, const RawKernelSpec& spec, bool* cached) {
  const std::string text = RawKernelKey(spec);
  return GetOrBuild(
      tenant, text, [&] { return BuildRawKernelModel(spec, limits_); }, cached);
}

absl::StatusOr<std::shared_ptr<const Model>> ModelCache::GetOrBuild(
    absl::string_view tenant, absl::string_view source,
    const std::function<absl::StatusOr<std::unique_ptr<Model>>()>& build, bool* cached) {
  const std::string key = Scoped(tenant, source);
  {
    absl::MutexLock lock(&mu_);
    auto it = by_source_.find(key);
    if (it != by_source_.end()) {
      Touch(it->second);
      if (metrics_ != nullptr) metrics_->model_cache_hits().Increment();
      if (cached != nullptr) *cached = true;
      return it->second.model;
    }
  }
  // Parse outside the lock; two racing misses of one text both parse, and one result wins.
  absl::StatusOr<std::unique_ptr<Model>> parsed = build();
  if (metrics_ != nullptr) metrics_->model_compiles().Increment();
  if (!parsed.ok()) return parsed.status();
  std::shared_ptr<const Model> model = std::move(*parsed);
  if (cached != nullptr) *cached = false;

  absl::MutexLock lock(&mu_);
  auto [it, inserted] = by_source_.try_emplace(key);
  if (inserted) {
    it->second.bytes = ModelBytes(source.size());
    bytes_ += it->second.bytes;
    EvictIfFull();
    it = by_source_.find(key);  // eviction may rehash
    it->second.model = model;
    it->second.id_key = Scoped(tenant, model->hash());
    source_by_id_[it->second.id_key] = key;
  }
  Touch(it->second);
  return it->second.model;
}

bool ModelCache::Contains(absl::string_view tenant, absl::string_view source) const {
  const std::string key = Scoped(tenant, source);
  absl::MutexLock lock(&mu_);
  return by_source_.contains(key);
}

absl::StatusOr<std::shared_ptr<const Model>> ModelCache::Find(absl::string_view tenant,
                                                              absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto id_it = source_by_id_.find(Scoped(tenant, id));
  if (id_it == source_by_id_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "model_id: '", ClientText(id),
        "' is not in the server's model cache; send model_source (or CompileModel) again"));
  }
  Entry& e = by_source_.at(id_it->second);
  Touch(e);
  if (metrics_ != nullptr) metrics_->model_cache_hits().Increment();
  return e.model;
}

std::string ModelCache::SensitivityKey(absl::string_view scoped_id,
                                       const std::vector<std::string>& names) {
  std::string key(scoped_id);
  for (const std::string& name : names) absl::StrAppend(&key, "/", name.size(), ":", name);
  return key;
}

absl::StatusOr<std::shared_ptr<const Model>> ModelCache::GetOrBuildSensitivityModel(
    absl::string_view tenant, const std::shared_ptr<const Model>& base,
    const std::vector<int>& params, bool* cached) {
  std::vector<std::string> names;
  for (int p : params) names.push_back(base->param_names().at(p));
  const std::string key = SensitivityKey(Scoped(tenant, base->hash()), names);
  {
    absl::MutexLock lock(&mu_);
    auto it = sensitivity_.find(key);
    if (it != sensitivity_.end()) {
      it->second.last_use = ++clock_;
      if (metrics_ != nullptr) metrics_->model_cache_hits().Increment();
      if (cached != nullptr) *cached = true;
      return it->second.model;
    }
  }
  absl::StatusOr<std::unique_ptr<Model>> built = BuildSensitivityModel(*base, params, limits_);
  if (metrics_ != nullptr) metrics_->model_compiles().Increment();
  if (!built.ok()) return built.status();
  std::shared_ptr<const Model> model = std::move(*built);
  if (cached != nullptr) *cached = false;

  absl::MutexLock lock(&mu_);
  auto [it, inserted] = sensitivity_.try_emplace(key);
  if (inserted) {
    it->second.bytes =
        ModelBytes(base->source().size()) * (1 + static_cast<int64_t>(params.size()));
    it->second.model = model;
    bytes_ += it->second.bytes;
    it->second.last_use = ++clock_;
    EvictIfFull();
    it = sensitivity_.find(key);
    if (it == sensitivity_.end()) return model;  // larger than the whole cache: not kept
  }
  it->second.last_use = ++clock_;
  return it->second.model;
}

bool ModelCache::ContainsSensitivityModel(absl::string_view tenant, absl::string_view source_or_id,
                                          bool by_id, const std::vector<std::string>& names) const {
  const std::string key = Scoped(tenant, source_or_id);
  absl::MutexLock lock(&mu_);
  std::string id;
  if (by_id) {
    id = key;
  } else {
    auto it = by_source_.find(key);
    if (it == by_source_.end() || it->second.model == nullptr) return false;
    id = Scoped(tenant, it->second.model->hash());
  }
  return sensitivity_.contains(SensitivityKey(id, names));
}

int ModelCache::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(by_source_.size());
}

int64_t ModelCache::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

void ModelCache::EvictIfFull() {
  // The just-inserted model entry has last_use 0 and no model yet: skip it. Sensitivity
  // models count against the same bounds (capacity: each kind on its own).
  while (static_cast<int>(by_source_.size()) > capacity_ ||
         static_cast<int>(sensitivity_.size()) > capacity_ || bytes_ > max_bytes_) {
    auto victim = by_source_.end();
    for (auto it = by_source_.begin(); it != by_source_.end(); ++it) {
      if (it->second.model == nullptr) continue;
      if (victim == by_source_.end() || it->second.last_use < victim->second.last_use) {
        victim = it;
      }
    }
    auto sens = sensitivity_.end();
    for (auto it = sensitivity_.begin(); it != sensitivity_.end(); ++it) {
      if (sens == sensitivity_.end() || it->second.last_use < sens->second.last_use) sens = it;
    }
    const bool models_full = static_cast<int>(by_source_.size()) > capacity_;
    const bool sens_full = static_cast<int>(sensitivity_.size()) > capacity_;
    if (sens != sensitivity_.end() &&
        (sens_full || (!models_full && (victim == by_source_.end() ||
                                        sens->second.last_use < victim->second.last_use)))) {
      bytes_ -= sens->second.bytes;
      sensitivity_.erase(sens);
      continue;
    }
    if (victim == by_source_.end()) return;
    source_by_id_.erase(victim->second.id_key);
    bytes_ -= victim->second.bytes;
    by_source_.erase(victim);
  }
}

}  // namespace ensolve::server
