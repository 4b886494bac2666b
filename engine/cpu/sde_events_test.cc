// Events with SDE methods on the CPU backend (integrate_sde.h): a kick at a time off the
// step grid, against the exact mean of Euler-Maruyama's recursion and the SDE's mean; a
// first passage that terminates, against the Brownian motion's mean passage time with the
// discrete-monitoring shift; every trajectory accounted for (return codes, events fired,
// steps). Seeds fixed; paths across batchings with events: sde_test's Reproducibility.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "engine/algorithms/table.h"
#include "engine/backend.h"
#include "engine/model/model.h"
#include "engine/testing/solve_options.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using testing::Fixed;

absl::StatusOr<BatchResult> Solve(const char* src, const SolveOptions& o, int64_t count,
                                  uint64_t seed) {
  auto m = Model::Parse(src);
  if (!m.ok()) return m.status();
  if (absl::Status s = ValidateOptions(o); !s.ok()) return s;
  static Backend* cpu = NewCpuBackend(2).release();
  auto prepared = cpu->Prepare(**m, o);
  if (!prepared.ok()) return prepared.status();
  BatchInputs in{count};
  in.seed = seed;
  return cpu->Solve(**prepared, o, in);
}

// dX = -X dt + 0.05 dW, X0 = 1, kicked by +1 at t = 1.005 (inside the step (1, 1.01)).
constexpr char kKickedOu[] = "state x = 1\nx' = -x\nnoise x = 0.05\nat t = 1.005: x = x + 1\n";

TEST(SdeEvents, KickOffTheGridKeepsTheMean) {
  const double dt = 0.01;
  const std::vector<double> saves = {0.5, 1.0, 1.005, 1.5, 2.0};
  const int64_t count = 20000;
  for (Algorithm a : {Algorithm::kEM, Algorithm::kSIEA}) {
    SCOPED_TRACE(AlgorithmName(a));
    SolveOptions o = Fixed(a, 2, dt, Precision::kFloat64);
    o.saveat = saves;
    auto r = Solve(kKickedOu, o, count, 20261204);
    ASSERT_TRUE(r.ok()) << r.status();
    // The noise is additive, so the mean follows the drift's recursion exactly: for em,
    // m <- (1 - h) m over the grid steps, the step (1, 1.01) cut in two halves at the kick.
    // The save at the kick time saves the state before it.
    std::vector<double> em_mean;
    double mean = 1, t = 0;
    size_t next = 0;
    for (int step = 0; step < 200; ++step) {
      const bool kick_step = step == 100;
      for (int part = 0; part < (kick_step ? 2 : 1); ++part) {
        const double h = kick_step ? dt / 2 : dt;
        mean *= 1 - h;
        t += h;
        while (next < saves.size() && std::abs(saves[next] - t) < 1e-9) {
          em_mean.push_back(mean);
          ++next;
        }
        if (kick_step && part == 0) mean += 1;
      }
    }
    ASSERT_EQ(em_mean.size(), saves.size());
    for (size_t i = 0; i < saves.size(); ++i) {
      double sum = 0;
      for (int64_t k = 0; k < count; ++k) sum += r->state(k, static_cast<int>(i), 0);
      const double got = sum / count;
      const double exact =
          std::exp(-saves[i]) + (saves[i] > 1.005 ? std::exp(1.005 - saves[i]) : 0);
      // Var X(t) <= 0.05^2 / 2: the mean's standard error is below 2.5e-4.
      const double se = 0.05 / std::sqrt(2.0 * count);
      if (a == Algorithm::kEM) {
        EXPECT_NEAR(got, em_mean[i], 5 * se) << "t = " << saves[i];
      } else {
        EXPECT_NEAR(got, exact, 5 * se + 2e-4) << "t = " << saves[i];  // weak order 2
      }
      std::printf("%s t = %.3f: mean %.6f, em recursion %.6f, exact %.6f\n", AlgorithmName(a),
                  saves[i], got, em_mean[i], exact);
    }
    for (int64_t k = 0; k < count; ++k) {
      ASSERT_EQ(r->retcodes[k], RetCode::kSuccess) << k;
      ASSERT_EQ(r->events_fired[k], 1) << k;
      ASSERT_EQ(r->stats[k].accepted, 201) << k;  // 200 grid steps, one of them cut
      ASSERT_EQ(r->t_final[k], 2.0) << k;
    }
  }
}

// dX = dt + 0.5 dW from 0, stopped where X crosses 1: the first passage time of a Brownian
// motion with drift 1 has mean 1 and variance 0.25. A crossing seen only at step ends comes
// about beta 0.5 sqrt(dt) later in X, beta = -zeta(1/2) / sqrt(2 pi) = 0.5826 (Broadie,
// Glasserman and Kou, Mathematical Finance 7(4), 1997), which the location on the step's
// line takes back by at most one step.
TEST(SdeEvents, FirstPassageTerminates) {
  constexpr char kDrifted[] =
      "state x = 0\nparam mu = 1, s = 0.5\nx' = mu\nnoise x = s\nwhen x - 1 crosses 0 up: "
      "terminate\n";
  const double dt = 1e-3;
  const int64_t count = 20000;
  for (Algorithm a : {Algorithm::kEM, Algorithm::kSIEA}) {
    SCOPED_TRACE(AlgorithmName(a));
    SolveOptions o = Fixed(a, 20, dt, Precision::kFloat64);
    auto r = Solve(kDrifted, o, count, 7);
    ASSERT_TRUE(r.ok()) << r.status();
    double sum = 0;
    for (int64_t k = 0; k < count; ++k) {
      ASSERT_EQ(r->retcodes[k], RetCode::kTerminated) << k;
      ASSERT_EQ(r->events_fired[k], 1) << k;
      ASSERT_NEAR(r->state(k, 0, 0), 1, 1e-9) << k;  // landed on the crossing
      sum += r->t_final[k];
    }
    const double mean = sum / count, se = std::sqrt(0.25 / count);
    const double shift = 0.5826 * 0.5 * std::sqrt(dt);
    std::printf("%s: mean passage time %.4f (1 + %.4f expected from discrete monitoring)\n",
                AlgorithmName(a), mean, shift);
    EXPECT_GT(mean, 1 + shift - dt - 5 * se);
    EXPECT_LT(mean, 1 + shift + 5 * se);
  }
}

}  // namespace
}  // namespace ensolve
