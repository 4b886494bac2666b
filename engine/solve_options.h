// What to solve: the algorithm, the time span, what to save and how accurately.
#ifndef ENSOLVE_ENGINE_SOLVE_OPTIONS_H_
#define ENSOLVE_ENGINE_SOLVE_OPTIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/algorithms/table.h"

namespace ensolve {

enum class Precision : uint8_t { kFloat32, kFloat64 };

// A name of the algorithm table (engine/algorithms/table.h), case-sensitive.
absl::StatusOr<Algorithm> ParseAlgorithm(std::string_view name);
const char* AlgorithmName(Algorithm a);
// Whether the algorithm has an embedded error estimate (may run adaptively).
bool IsAdaptiveCapable(Algorithm a);
const char* PrecisionName(Precision p);

struct SolveOptions {
  Algorithm algorithm = Algorithm::kTsit5;
  Precision precision = Precision::kFloat64;
  double t0 = 0.0;
  double t1 = 1.0;
  // t1 < t0 integrates backward in time.
  // Times to save at, in the direction of integration (ascending, or descending when
  // t1 < t0), between t0 and t1. Empty: save the final state only.
  std::vector<double> saveat;
  // Adaptive step control (ignored by fixed-step runs).
  bool adaptive = true;
  double abstol = 1e-6;
  double reltol = 1e-3;
  // Fixed-step runs: the step (required, > 0). Adaptive runs: the initial step (0 = pick
  // one automatically).
  double dt = 0.0;
  // Adaptive runs stop with kDtBelowMin when the step would fall below this (0 = a few ulps
  // of t).
  double dtmin = 0.0;
  // Steps (accepted + rejected) per trajectory before stopping with kMaxSteps.
  int64_t max_steps = 1000000;
  // What each save point holds: these states and named outputs of the model, in this order
  // (Model::SelectionRoots); empty: every state. Only the selection is computed, stored
  // and returned.
  std::vector<std::string> outputs;
};

// Checks the options against each other (t1 != t0, saveat ordered and in range, dt > 0
// for fixed-step runs, positive tolerances, ...). INVALID_ARGUMENT names the field.
absl::Status ValidateOptions(const SolveOptions& options);

// Values per save point: outputs.size(), or the model's num_states when it is empty.
inline int NumSaved(const SolveOptions& o, int num_states) {
  return o.outputs.empty() ? num_states : static_cast<int>(o.outputs.size());
}

// Number of save points per trajectory: saveat.size(), or 1 when saveat is empty.
inline int NumSavePoints(const SolveOptions& o) {
  return o.saveat.empty() ? 1 : static_cast<int>(o.saveat.size());
}

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_SOLVE_OPTIONS_H_
