#include "engine/model/raw_kernel.h"

#include <cstring>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/model/sha256.h"

namespace ensolve {
namespace {

bool IsCIdentifier(std::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// The first 64 bytes of a client's name, for messages.
std::string Shown(const std::string& s) {
  return s.size() > 64 ? absl::StrCat(s.substr(0, 64), "...") : s;
}

absl::Status CheckNames(const std::vector<std::string>& names, const char* field, int max,
                        const char* limit, const ModelLimits& limits) {
  if (static_cast<int>(names.size()) > max) {
    return absl::InvalidArgumentError(absl::StrCat("raw_kernel.", field, ": ", names.size(),
                                                   " names, over the limit ", limit, " = ", max));
  }
  absl::flat_hash_map<std::string_view, size_t> seen;
  for (size_t k = 0; k < names.size(); ++k) {
    const std::string& name = names[k];
    if (static_cast<int>(name.size()) > limits.max_identifier_length) {
      return absl::InvalidArgumentError(absl::StrCat(
          "raw_kernel.", field, "[", k, "]: ", name.size(),
          " bytes, over the limit max_identifier_length = ", limits.max_identifier_length));
    }
    if (!IsCIdentifier(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("raw_kernel.", field, "[", k, "]: '", Shown(name),
                       "' is not a name: expected a letter or '_' followed by letters, digits "
                       "or '_'"));
    }
    auto [it, added] = seen.emplace(name, k);
    if (!added) {
      return absl::InvalidArgumentError(absl::StrCat("raw_kernel.", field, "[", k, "]: '", name,
                                                     "' is already raw_kernel.", field, "[",
                                                     it->second, "]"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDefaults(const std::vector<double>& defaults, size_t names, const char* field,
                           const char* names_field) {
  if (defaults.empty() || defaults.size() == names) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("raw_kernel.", field, ": has ", defaults.size(), " values, expected ", names,
                   " (one per raw_kernel.", names_field, ") or none (every default 0)"));
}

void AppendField(std::string* out, std::string_view field) {
  absl::StrAppend(out, field.size(), ":", absl::string_view(field.data(), field.size()));
}

}  // namespace

// Builds the model; a friend of Model.
class RawKernelModelBuilder {
 public:
  static absl::StatusOr<std::unique_ptr<Model>> Build(const RawKernelSpec& spec,
                                                      const ModelLimits& limits) {
    if (spec.cuda_source.find_first_not_of(" \t\r\n") == std::string::npos) {
      return absl::InvalidArgumentError(
          "raw_kernel.cuda_source: is empty; expected CUDA C++ source defining __device__ void "
          "ModelRhs(R t, const R* u, const R* p, R* du)");
    }
    if (spec.states.empty()) {
      return absl::InvalidArgumentError(
          "raw_kernel.states: none given; expected the names of the states, in their order in u");
    }
    if (absl::Status s = CheckNames(spec.states, "states", limits.max_states, "max_states", limits);
        !s.ok())
      return s;
    if (absl::Status s = CheckNames(spec.params, "params", limits.max_params, "max_params", limits);
        !s.ok())
      return s;
    if (absl::Status s =
            CheckDefaults(spec.state_defaults, spec.states.size(), "state_defaults", "states");
        !s.ok())
      return s;
    if (absl::Status s =
            CheckDefaults(spec.param_defaults, spec.params.size(), "param_defaults", "params");
        !s.ok())
      return s;

    std::unique_ptr<Model> m(new Model());
    m->state_names_ = spec.states;
    m->param_names_ = spec.params;
    m->state_defaults_ = spec.state_defaults;
    m->state_defaults_.resize(spec.states.size(), 0.0);
    m->param_defaults_ = spec.param_defaults;
    m->param_defaults_.resize(spec.params.size(), 0.0);
    for (int i = 0; i < m->num_states(); ++i) m->state_nodes_.push_back(m->graph_.State(i));
    for (int j = 0; j < m->num_params(); ++j) m->graph_.Param(j);
    m->raw_cuda_source_ = spec.cuda_source;
    m->raw_compile_seconds_ = limits.max_compile_seconds;
    m->source_ = RawKernelKey(spec);
    m->hash_ = Sha256Hex(m->source_);
    return m;
  }
};

absl::StatusOr<std::unique_ptr<Model>> BuildRawKernelModel(const RawKernelSpec& spec,
                                                           const ModelLimits& limits) {
  return RawKernelModelBuilder::Build(spec, limits);
}

std::string RawKernelKey(const RawKernelSpec& spec) {
  // \x01 starts no model text (the lexer rejects it), so no text's hash or cache key
  // equals a raw kernel's.
  std::string out = "\x01raw-cuda/v1\n";
  AppendField(&out, spec.cuda_source);
  for (const auto* names : {&spec.states, &spec.params}) {
    absl::StrAppend(&out, names->size(), "|");
    for (const std::string& n : *names) AppendField(&out, n);
  }
  for (const auto* values : {&spec.state_defaults, &spec.param_defaults}) {
    absl::StrAppend(&out, values->size(), "|");
    for (double v : *values) {
      char bits[sizeof v];
      std::memcpy(bits, &v, sizeof v);
      out.append(bits, sizeof bits);
    }
  }
  return out;
}

}  // namespace ensolve
