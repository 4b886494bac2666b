// Forward sensitivities (docs/sensitivities.md): the model whose states are a base model's
// states u and their derivatives S_j = du/dp_j for chosen parameters p_j, generated
// symbolically in the IR:
//
//   u'   = f(t, u, p)
//   S_j' = J(t, u, p) S_j + df/dp_j(t, u, p),      S_j(t0) = du0/dp_j
//
// It is an ordinary Model (right-hand side, outputs, Jacobian and df/dt derived like any
// model's), so every algorithm solves it on every backend unchanged. Its events are the
// base model's, each also assigning the jump of the sensitivities it moves (sensitivity.cc,
// AddJumps; docs/sensitivities.md, "Events").
//
// Layout: the sensitivity model's states are u (n values), then S_0, S_1, ... (n values
// each): state n + j*n + i is du_i/dp_j, named SensitivityName(u_i, p_j). Its outputs are
// the base outputs o, then for each parameter j the sensitivities of every output,
// do_r/dp_j = do_r/du . S_j + do_r/dp_j (output K + j*K + r). The Jacobian is block lower
// triangular with every diagonal block J's own nodes (tested).
//
// Initial states: an initial-state input gives the n base states (num_input_states());
// the sensitivity states then start at 0 (u0 does not depend on p). Without one,
// InitialState() gives all of them, du0/dp from the symbolic derivative of the states'
// defaults (nonzero where a default is an expression of the parameters).
#ifndef ENSOLVE_ENGINE_MODEL_SENSITIVITY_H_
#define ENSOLVE_ENGINE_MODEL_SENSITIVITY_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/limits.h"
#include "engine/model/model.h"

namespace ensolve {

// "d(x)/d(k)": the name of quantity x's sensitivity to parameter k. Never a model name
// (those are identifiers), so it cannot collide with one.
std::string SensitivityName(std::string_view quantity, std::string_view param);

// The parameter indices of `names` (SolveRequest.sensitivities), in order.
// INVALID_ARGUMENT "sensitivities[k]: ..." for a name that is not a parameter (with a
// "did you mean" where one is close) or one named twice.
absl::StatusOr<std::vector<int>> SensitivityParams(const Model& model,
                                                   const std::vector<std::string>& names);

// Whether `model` may have sensitivities at all: INVALID_ARGUMENT for a stochastic model
// (an SDE path's sensitivities are not this system) and for one with an event that assigns
// a parameter (naming the event's line and column and the parameter).
absl::Status CheckSensitivitiesSupported(const Model& model);

// The sensitivity model of `base` for the parameters `params` (indices, distinct, at least
// one). INVALID_ARGUMENT "sensitivities: ..." when the augmented system exceeds `limits`:
// n x (1 + m) states over max_states, or its IR nodes over max_nodes (the message names
// the limit and the augmented size); RESOURCE_EXHAUSTED past max_compile_seconds.
// Its hash is the base hash with the parameter list, so caches keyed by model hash keep it
// apart from the base model.
absl::StatusOr<std::unique_ptr<Model>> BuildSensitivityModel(const Model& base,
                                                             const std::vector<int>& params,
                                                             const ModelLimits& limits = {});

// The output selection to solve for a request that saves `names` (states and outputs of
// the base model; empty: every state) with sensitivities to `params` (names): the names,
// then for each parameter every name's sensitivity, so that a saved row is
// [q values | m blocks of q values]. Empty for empty `names` (the sensitivity model's own
// states are that row).
std::vector<std::string> SensitivitySelection(const std::vector<std::string>& names,
                                              const std::vector<std::string>& params);

// One saved row of the sensitivity system ([q | m blocks of q], as SensitivitySelection
// orders it) into the quantities (q values) and their sensitivities in the wire layout
// [q][m] (sens[r * m + j] = d quantity_r / d p_j).
template <class T>
void SplitSensitivityRow(const T* row, int q, int m, T* quantities, T* sens) {
  for (int r = 0; r < q; ++r) quantities[r] = row[r];
  for (int r = 0; r < q; ++r) {
    for (int j = 0; j < m; ++j) sens[r * m + j] = row[q + j * q + r];
  }
}

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_MODEL_SENSITIVITY_H_
