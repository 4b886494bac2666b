// Forward sensitivities across events (sensitivity.cc, AddJumps): solved on the CPU backend
// with every ODE method, against analytic sensitivities (a multiplicative kick at a fixed
// time) and central differences of closed forms (a ball bouncing on a ground whose height,
// like gravity, restitution and the drop height, is a parameter: the crossing time moves
// with the parameters; the same ball stopped by `terminate` at its first impact), at
// random parameters (seed logged).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/algorithms/table.h"
#include "engine/model/sensitivity.h"
#include "engine/testing/events.h"
#include "engine/testing/seed.h"
#include "engine/testing/sensitivity.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using testing::ParseOrFail;
using testing::Sens;
using testing::SensOptions;
using testing::SolveOnCpu;

// Every ODE method but Euler (first order: its sensitivities converge like its states,
// too slowly for these bounds), adaptive at `tol` where it can be, else fixed steps of 1e-3.
template <class F>
void ForEachMethod(double t1, double tol, std::vector<double> saves, F check) {
  for (int a = 0; a < kNumAlgorithms; ++a) {
    const AlgorithmInfo& info = AlgorithmTable()[a];
    if (info.stochastic || info.algorithm == Algorithm::kEuler) continue;
    SCOPED_TRACE(info.name);
    SolveOptions o = SensOptions(info.algorithm, t1, tol, saves);
    if (!info.adaptive) {
      o.adaptive = false;
      o.dt = 1e-3;
    }
    check(info, o);
  }
}

// u' = -k u with u = a u at t = 2: u = 10 e^{-kt} before, 10 a e^{-kt} after, so
// du/dk = -t u and du/da = 0 before, 10 e^{-kt} after.
TEST(SensitivityEvents, KickAtAFixedTimeMatchesTheAnalyticJump) {
  auto base = ParseOrFail("state u = 10\nparam k = 0.5, a = 2\nu' = -k*u\nat t = 2: u = a*u\n");
  auto s = Sens(*base, {"k", "a"});
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->num_events(), 1);
  // u, du/dk and du/da are all assigned: u+ = a u-, S_k+ = a S_k-, S_a+ = a S_a- + u-.
  EXPECT_EQ(s->events()[0].assignments.size(), 3u);
  const std::vector<double> saves = {1, 1.99, 2.01, 3, 5};
  const std::vector<double> p = {0.5, 2};
  ForEachMethod(5, 1e-10, saves, [&](const AlgorithmInfo&, const SolveOptions& o) {
    auto r = SolveOnCpu(*s, o, BatchInputs{1, nullptr, 1, p.data(), 1});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->retcodes[0], RetCode::kSuccess);
    EXPECT_EQ(r->events_fired[0], 1);
    for (size_t i = 0; i < saves.size(); ++i) {
      const double t = saves[i], after = t > 2 ? 2.0 : 1.0;
      const double u = 10 * after * std::exp(-0.5 * t);
      const double want[3] = {u, -t * u, t > 2 ? 10 * std::exp(-0.5 * t) : 0.0};
      for (int q = 0; q < 3; ++q) {
        EXPECT_NEAR(r->state(0, static_cast<int>(i), q), want[q], 1e-7 * (1 + std::abs(want[q])))
            << s->state_names()[q] << " at t = " << t;
      }
    }
  });
}

TEST(SensitivityEvents, ACrossingThatMovesWithTheParametersMatchesCentralDifferences) {
  auto base = ParseOrFail(testing::kGroundBall);
  const std::vector<std::string> names = {"g", "e", "h0", "ground"};
  auto s = Sens(*base, names);
  ASSERT_NE(s, nullptr);
  std::mt19937_64 rng(testing::TestSeed("SensitivityEventsCrossing"));
  std::uniform_real_distribution<double> uni(0, 1);
  const std::vector<double> saves = {0.3, 0.7, 1.1, 1.5, 1.9, 2.3, 2.7, 3.1, 3.5, 3.9};
  for (int draw = 0; draw < 3; ++draw) {
    // e >= 0.8 keeps the bounces' accumulation point (tau1 (1 + e) / (1 - e) >= 6.4) past t1.
    const std::vector<double> q = {8 + 4 * uni(rng), 0.8 + 0.1 * uni(rng), 4 + 2 * uni(rng),
                                   uni(rng)};
    SCOPED_TRACE(absl::StrCat("g = ", q[0], ", e = ", q[1], ", h0 = ", q[2], ", ground = ", q[3]));
    std::vector<double> bounces;
    testing::GroundBallAt(4, q, &bounces);
    // d(state)/d(q_j) at each save point by central differences of the closed form; save
    // points within 0.02 of a bounce are skipped (the difference quotient straddles it).
    std::vector<std::array<std::array<double, 4>, 2>> want(saves.size());
    std::vector<bool> near(saves.size(), false);
    for (size_t i = 0; i < saves.size(); ++i) {
      for (double b : bounces) near[i] = near[i] || std::abs(saves[i] - b) < 0.02;
      for (int j = 0; j < 4; ++j) {
        std::vector<double> hi = q, lo = q;
        const double step = 1e-6 * std::abs(q[j]) + 1e-7;
        hi[j] += step;
        lo[j] -= step;
        const auto a = testing::GroundBallAt(saves[i], hi), b = testing::GroundBallAt(saves[i], lo);
        for (int c = 0; c < 2; ++c) want[i][c][j] = (a[c] - b[c]) / (2 * step);
      }
    }
    ForEachMethod(4, 1e-10, saves, [&](const AlgorithmInfo&, const SolveOptions& o) {
      auto r = SolveOnCpu(*s, o, BatchInputs{1, nullptr, 1, q.data(), 1});
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(r->retcodes[0], RetCode::kSuccess);
      EXPECT_EQ(r->events_fired[0], static_cast<int>(bounces.size()));
      double worst = 0;
      for (size_t i = 0; i < saves.size(); ++i) {
        if (near[i]) continue;
        const auto state = testing::GroundBallAt(saves[i], q);
        for (int c = 0; c < 2; ++c) {
          EXPECT_NEAR(r->state(0, static_cast<int>(i), c), state[c], 1e-7);
          for (int j = 0; j < 4; ++j) {
            const double got = r->state(0, static_cast<int>(i), 2 + 2 * j + c);
            const double d = std::abs(got - want[i][c][j]) / (1 + std::abs(want[i][c][j]));
            worst = std::max(worst, d);
            EXPECT_LT(d, 1e-5) << s->state_names()[2 + 2 * j + c] << " at t = " << saves[i] << ": "
                               << got << " vs " << want[i][c][j];
          }
        }
      }
      std::printf("%s: worst |S - FD| / (1 + |FD|) = %.2e\n",
                  std::string(AlgorithmName(o.algorithm)).c_str(), worst);
    });
  }
}

// Stopped at the first impact: the final state is (ground, -sqrt(2 g (h0 - ground))) at
// t = sqrt(2 (h0 - ground) / g), so d(h)/d(p) = d(ground)/d(p) and d(v)/d(p) follow in closed
// form; the `terminate` jump adds f- dtau/dp to S- (without it d(h)/d(g) would be -t^2/2).
TEST(SensitivityEvents, TerminateGivesTheSensitivityOfTheStoppedState) {
  std::string src = testing::kGroundBall;
  src.replace(src.find("v = -e*v"), 8, "terminate");
  auto base = ParseOrFail(src.c_str());
  auto s = Sens(*base, {"g", "h0", "ground"});
  ASSERT_NE(s, nullptr);
  const double g = 9.81, h0 = 5, ground = 0.5;
  const double drop = h0 - ground, speed = std::sqrt(2 * g * drop);
  // d/dg, d/dh0, d/dfloor of h = ground and of v = -sqrt(2 g (h0 - ground)).
  const double want_h[3] = {0, 0, 1};
  const double want_v[3] = {-drop / speed, -g / speed, g / speed};
  const std::vector<double> p = {g, 0.8, h0, ground};
  ForEachMethod(4, 1e-10, {}, [&](const AlgorithmInfo&, const SolveOptions& o) {
    auto r = SolveOnCpu(*s, o, BatchInputs{1, nullptr, 1, p.data(), 1});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->retcodes[0], RetCode::kTerminated);
    EXPECT_NEAR(r->t_final[0], std::sqrt(2 * drop / g), 1e-9);
    for (int j = 0; j < 3; ++j) {
      EXPECT_NEAR(r->state(0, 0, 2 + 2 * j), want_h[j], 1e-7) << s->state_names()[2 + 2 * j];
      EXPECT_NEAR(r->state(0, 0, 3 + 2 * j), want_v[j], 1e-7) << s->state_names()[3 + 2 * j];
    }
  });
}

}  // namespace
}  // namespace ensolve
