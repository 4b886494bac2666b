#include "server/sensitivities.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/model/sensitivity.h"

namespace ensolve::server {
namespace {

template <class T>
void Split(const T* values, int64_t rows, int num_save, int q, int m, std::string* states,
           std::string* sens) {
  const int width = q * (1 + m);
  states->resize(static_cast<size_t>(rows) * num_save * q * sizeof(T));
  sens->resize(static_cast<size_t>(rows) * num_save * q * m * sizeof(T));
  T* s = reinterpret_cast<T*>(states->data());
  T* d = reinterpret_cast<T*>(sens->data());
  for (int64_t k = 0; k < rows * num_save; ++k) {
    SplitSensitivityRow(values + k * width, q, m, s + k * q, d + k * q * m);
  }
}

}  // namespace

absl::Status AddSensitivities(const std::vector<std::string>& names, ModelCache& models,
                              JobSpec* spec) {
  if (names.empty()) return absl::OkStatus();
  const Model& model = *spec->model;
  absl::StatusOr<std::vector<int>> params = SensitivityParams(model, names);
  if (!params.ok()) return params.status();
  if (absl::Status s = CheckSensitivitiesSupported(model); !s.ok()) return s;
  // (An SDE algorithm needs a model with noise, which CheckSensitivitiesSupported refused.)
  absl::StatusOr<std::shared_ptr<const Model>> s =
      models.GetOrBuildSensitivityModel(spec->tenant, spec->model, *params);
  if (!s.ok()) return s.status();
  spec->sensitivities = names;
  spec->sensitivity_model = *std::move(s);
  spec->sensitivity_options = spec->options;
  spec->sensitivity_options.outputs = SensitivitySelection(spec->options.outputs, names);
  return absl::OkStatus();
}

void SplitSensitivities(const JobSpec& spec, const BatchResult& r, int64_t first, int64_t rows,
                        std::string* states, std::string* sensitivities) {
  const int q = spec.num_states(), m = spec.num_sensitivities();
  const int64_t offset = first * r.num_save * r.num_states;
  if (r.precision == Precision::kFloat32) {
    Split(r.states_f32.data() + offset, rows, r.num_save, q, m, states, sensitivities);
  } else {
    Split(r.states_f64.data() + offset, rows, r.num_save, q, m, states, sensitivities);
  }
}

}  // namespace ensolve::server
