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

}  // namespace ensolve
