// What the sensitivity tests share: a model parsed, its sensitivity model for named
// parameters, and a solve on the CPU backend.
#ifndef ENSOLVE_ENGINE_TESTING_SENSITIVITY_H_
#define ENSOLVE_ENGINE_TESTING_SENSITIVITY_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/backend.h"
#include "engine/model/model.h"
#include "engine/model/sensitivity.h"
#include "gtest/gtest.h"

namespace ensolve::testing {

inline std::unique_ptr<Model> ParseOrFail(const char* src) {
  auto m = Model::Parse(src);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

inline std::unique_ptr<Model> Sens(const Model& base, const std::vector<std::string>& names) {
  auto params = SensitivityParams(base, names);
  EXPECT_TRUE(params.ok()) << params.status();
  if (!params.ok()) return nullptr;
  auto m = BuildSensitivityModel(base, *params);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

inline absl::StatusOr<BatchResult> SolveOnCpu(const Model& m, const SolveOptions& o,
                                              const BatchInputs& in) {
  EXPECT_TRUE(ValidateOptions(o).ok()) << ValidateOptions(o);
  static Backend* cpu = NewCpuBackend().release();
  auto prepared = cpu->Prepare(m, o);
  if (!prepared.ok()) return prepared.status();
  return cpu->Solve(**prepared, o, in);
}

// Adaptive (where the algorithm is) with abstol = reltol = tol, up to 10^6 steps.
inline SolveOptions SensOptions(Algorithm a, double t1, double tol, std::vector<double> saveat) {
  SolveOptions o;
  o.algorithm = a;
  o.t1 = t1;
  o.abstol = o.reltol = tol;
  o.saveat = std::move(saveat);
  o.max_steps = 1000000;
  return o;
}

}  // namespace ensolve::testing

#endif  // ENSOLVE_ENGINE_TESTING_SENSITIVITY_H_
