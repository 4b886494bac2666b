// Checks a batch's input shapes against a model and fills in the model's defaults for
// inputs the caller left out. Shared by every backend.
#ifndef ENSOLVE_ENGINE_SOLVE_INPUTS_H_
#define ENSOLVE_ENGINE_SOLVE_INPUTS_H_

#include "absl/status/statusor.h"
#include "engine/batch.h"
#include "engine/model/model.h"

namespace ensolve {

// BatchInputs with u0 and p always set (pointing at the model's defaults where the caller
// gave none). Valid while the model and the original inputs live.
struct ResolvedInputs {
  int64_t count = 0;
  const double* u0 = nullptr;
  int64_t u0_rows = 1;
  const double* p = nullptr;
  int64_t p_rows = 1;
};

// INVALID_ARGUMENT when a row count is neither 1 nor count, or count < 0.
absl::StatusOr<ResolvedInputs> ResolveInputs(const Model& model, const BatchInputs& in);

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_SOLVE_INPUTS_H_
