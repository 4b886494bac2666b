#include "engine/backend.h"

#include "absl/strings/str_cat.h"
#include "engine/algorithms/table.h"

namespace ensolve {

absl::Status CheckStiffModelSize(const Model& model, Algorithm algorithm, int max_states,
                                 const char* backend) {
  const AlgorithmInfo& info = GetAlgorithmInfo(algorithm);
  if (info.matrices == 0 || model.num_states() <= max_states) return absl::OkStatus();
  if (!model.sensitivity_params().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model: ", model.num_states(), " states (", model.num_input_states(),
        " states and their sensitivities to ", model.sensitivity_params().size(),
        " parameters) exceed the ", backend, " backend's limit of ", max_states, " states for ",
        info.name,
        " (it keeps an n x n matrix per trajectory); use an explicit method, fewer states or "
        "fewer sensitivities"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "model: ", model.num_states(), " states exceed the ", backend, " backend's limit of ",
      max_states, " states for ", info.name,
      " (it keeps an n x n matrix per trajectory); use an explicit method or fewer states"));
}

absl::Status CheckAlgorithmFitsModel(const Model& model, Algorithm algorithm) {
  const AlgorithmInfo& info = GetAlgorithmInfo(algorithm);
  if (model.is_raw_kernel() && (info.stochastic || info.jacobian || info.time_derivative)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "algorithm: ", info.name, " needs the model's ",
        info.stochastic ? "noise" : (info.jacobian ? "Jacobian" : "time derivative"),
        ", which a raw kernel does not give (it defines only ModelRhs); use an explicit ODE "
        "method such as tsit5, vern7 or vern9"));
  }
  if (info.stochastic && !model.has_noise()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "algorithm: ", info.name,
        " is an SDE method, but the model has no noise (no line noise x = ...); use an ODE "
        "method such as tsit5"));
  }
  if (!info.stochastic && model.has_noise()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "algorithm: ", info.name,
        " is an ODE method, but the model has noise (an SDE); use an SDE method: em or siea"));
  }
  if (info.diagonal_noise && !model.noise_is_diagonal()) {
    const int n = model.num_states(), m = model.num_wiener();
    for (int i = 0; i < n; ++i) {
      int terms = 0;
      for (int j = 0; j < m; ++j) {
        terms += !model.graph().IsConstantEqual(model.noise()[static_cast<size_t>(i) * m + j], 0);
      }
      if (terms > 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "algorithm: ", info.name,
            " needs diagonal noise (each state driven by at most one Wiener process), but "
            "state '",
            model.state_names()[i], "' has terms in ", terms, " Wiener processes; use em"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace ensolve
