// One check, run on every backend: a state whose default is an expression of parameters
// starts each trajectory at the value of its own parameters (given as rows or drawn by a
// sampler), unless u0 is sent.
#ifndef ENSOLVE_ENGINE_TESTING_INITIAL_STATE_H_
#define ENSOLVE_ENGINE_TESTING_INITIAL_STATE_H_

#include <cmath>
#include <vector>

#include "engine/backend.h"
#include "engine/model/model.h"
#include "engine/sampler.h"
#include "engine/testing/solve_options.h"
#include "gtest/gtest.h"

namespace ensolve::testing {

// x(t) = x0 e^{-k t}; y stays at its start 2 x0 + 1.
inline constexpr char kParamInitModel[] = R"(
param x0 = 1, k = 1
state x = x0, y = 2*x0 + 1
x' = -k*x
y' = 0
)";

inline void ExpectInitialStatesFollowParameters(Backend& backend) {
  auto model = Model::Parse(kParamInitModel);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_TRUE((*model)->initial_state_depends_on_params());
  const SolveOptions o = Fixed(Algorithm::kRK4, 1, 1e-3, Precision::kFloat64);
  auto prepared = backend.Prepare(**model, o);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  auto solve = [&](const BatchInputs& in) {
    auto r = backend.Solve(**prepared, o, in);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : BatchResult{};
  };
  auto expect = [](const BatchResult& r, int64_t i, double x0, double k, const char* what) {
    EXPECT_NEAR(r.state(i, 0, 0), x0 * std::exp(-k), 1e-10) << what << " trajectory " << i;
    EXPECT_NEAR(r.state(i, 0, 1), 2 * x0 + 1, 1e-12) << what << " trajectory " << i;
  };

  // One parameter row per trajectory.
  const std::vector<double> p = {0.5, 1.0, 3.0, 0.25, -2.0, 2.0};
  const BatchResult rows = solve(BatchInputs{3, nullptr, 1, p.data(), 3});
  for (int i = 0; i < 3; ++i) expect(rows, i, p[2 * i], p[2 * i + 1], "rows");
  // One shared row, and the defaults (x0 = 1, k = 1).
  const BatchResult shared = solve(BatchInputs{2, nullptr, 1, p.data() + 2, 1});
  for (int i = 0; i < 2; ++i) expect(shared, i, 3.0, 0.25, "shared");
  const BatchResult defaults = solve(BatchInputs{2});
  for (int i = 0; i < 2; ++i) expect(defaults, i, 1.0, 1.0, "defaults");

  // Parameters drawn by a sampler (a GPU draws them on the device unless they are needed
  // on the host, as here), from trajectory 1000 of the ensemble.
  SamplerSpec spec{SamplerKind::kUniform, 7, {0.1, 0.5}, {4.0, 2.0}, {}};
  auto sampler = Sampler::Create(spec, 2);
  ASSERT_TRUE(sampler.ok()) << sampler.status();
  const int64_t n = 1000, first = 1000;
  BatchInputs sampled{n};
  sampled.p_sampler = &*sampler;
  sampled.first = first;
  const BatchResult drawn = solve(sampled);
  std::vector<double> drawn_p(2 * n);
  sampler->Fill(first, n, drawn_p.data());
  for (int64_t i = 0; i < n; ++i) expect(drawn, i, drawn_p[2 * i], drawn_p[2 * i + 1], "sampled");

  // u0 sent: it wins over the parameter-dependent defaults.
  const std::vector<double> u0 = {5.0, 7.0};
  const BatchResult given = solve(BatchInputs{3, u0.data(), 1, p.data(), 3});
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(given.state(i, 0, 0), 5.0 * std::exp(-p[2 * i + 1]), 1e-10) << i;
    EXPECT_EQ(given.state(i, 0, 1), 7.0) << i;
  }
}

}  // namespace ensolve::testing

#endif  // ENSOLVE_ENGINE_TESTING_INITIAL_STATE_H_
