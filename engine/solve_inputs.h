// Checks a batch's input shapes against a model and fills in the model's defaults for
// inputs the caller left out. Shared by every backend.
#ifndef ENSOLVE_ENGINE_SOLVE_INPUTS_H_
#define ENSOLVE_ENGINE_SOLVE_INPUTS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "engine/batch.h"
#include "engine/model/model.h"

namespace ensolve {

// BatchInputs with u0 and p always set (pointing at the model's defaults where the caller
// gave none, or at samples drawn into this object). Valid while the model and the
// original inputs live. Move-only: the pointers may refer into its own scratch.
struct ResolvedInputs {
  ResolvedInputs() = default;
  ResolvedInputs(ResolvedInputs&&) = default;
  ResolvedInputs& operator=(ResolvedInputs&&) = default;

  int64_t count = 0;
  const double* u0 = nullptr;
  int64_t u0_rows = 1;
  const double* p = nullptr;
  int64_t p_rows = 1;
  // With draw_samples = false: an input that comes from a sampler keeps it here (its
  // pointer above is then null, its rows count), for the backend to draw.
  const Sampler* u0_sampler = nullptr;
  const Sampler* p_sampler = nullptr;
  int64_t first = 0;
  uint64_t seed = 0;           // BatchInputs::seed
  const double* t0 = nullptr;  // per-trajectory spans, as BatchInputs has them
  const double* t1 = nullptr;
  const double* saveat = nullptr;

  std::vector<double> u0_scratch, p_scratch;  // samples drawn on the host
};

// INVALID_ARGUMENT when a row count is neither 1 nor count, count < 0, first < 0, or a
// sampler's dimensions are not the model's. Sampled inputs are drawn on the host unless
// `draw_samples` is false. For a sensitivity model (Model::num_input_states() below
// num_states()) u0 inputs give the base states, and the resolved u0 is always a dense
// table of every state: the given rows with zero sensitivities (u0 then does not depend on
// the parameters), or the model's InitialState() when u0 is left to the defaults.
absl::StatusOr<ResolvedInputs> ResolveInputs(const Model& model, const BatchInputs& in,
                                             bool draw_samples = true);

// INVALID_ARGUMENT when the batch's per-trajectory spans do not fit the options: values
// given without SolveOptions::span_per_trajectory, or per-trajectory save times missing.
absl::Status CheckSpanInputs(const SolveOptions& options, const BatchInputs& in);

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_SOLVE_INPUTS_H_
