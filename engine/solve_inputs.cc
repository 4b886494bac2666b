#include "engine/solve_inputs.h"

#include "absl/strings/str_cat.h"

namespace ensolve {

absl::StatusOr<ResolvedInputs> ResolveInputs(const Model& model, const BatchInputs& in) {
  if (in.count < 0) return absl::InvalidArgumentError("count: must not be negative");
  ResolvedInputs r;
  r.count = in.count;
  if (in.u0 == nullptr) {
    r.u0 = model.state_defaults().data();
    r.u0_rows = 1;
  } else {
    if (in.u0_rows != 1 && in.u0_rows != in.count) {
      return absl::InvalidArgumentError(absl::StrCat("u0: has ", in.u0_rows,
                                                     " rows; expected 1 (shared) or ", in.count,
                                                     " (one per trajectory)"));
    }
    r.u0 = in.u0;
    r.u0_rows = in.u0_rows;
  }
  if (in.p == nullptr || model.num_params() == 0) {
    r.p = model.param_defaults().data();
    r.p_rows = 1;
  } else {
    if (in.p_rows != 1 && in.p_rows != in.count) {
      return absl::InvalidArgumentError(absl::StrCat("params: has ", in.p_rows,
                                                     " rows; expected 1 (shared) or ", in.count,
                                                     " (one per trajectory)"));
    }
    r.p = in.p;
    r.p_rows = in.p_rows;
  }
  return r;
}

}  // namespace ensolve
