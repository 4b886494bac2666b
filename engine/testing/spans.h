// One check, run on every backend: an ensemble whose trajectories each have their own time
// span and save times (BatchInputs::t0, t1, saveat; some forward, some backward) gives,
// trajectory for trajectory, bitwise what solving each one alone with that span gives.
#ifndef ENSOLVE_ENGINE_TESTING_SPANS_H_
#define ENSOLVE_ENGINE_TESTING_SPANS_H_

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "engine/algorithms/table.h"
#include "engine/backend.h"
#include "engine/model/model.h"
#include "gtest/gtest.h"

namespace ensolve::testing {

// Smooth both forward and backward (Lorenz is not: backward it blows up), with t in the
// right-hand side so that each trajectory's own t0 matters.
inline constexpr char kSpanModel[] = R"(
param w = 1
state x = 1, y = 0, z = 1
x' = y
y' = -w*w*x + cos(t)/10
z' = cos(w*t)*z
)";

// Random spans for n trajectories: t0 in [-1, 1], |t1 - t0| in [0.5, 2.5], a third of
// them backward, and num_save save times per trajectory, strictly ordered within the span.
struct RandomSpans {
  std::vector<double> t0, t1, saveat;
  int num_save = 0;

  RandomSpans(int64_t n, int num_save, uint32_t seed) : num_save(num_save) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int64_t k = 0; k < n; ++k) {
      const double a = -1 + 2 * unit(rng);
      const double len = 0.5 + 2 * unit(rng);
      const double b = k % 3 == 2 ? a - len : a + len;
      t0.push_back(a);
      t1.push_back(b);
      std::vector<double> f(num_save);
      for (double& x : f) x = unit(rng);
      std::sort(f.begin(), f.end());
      for (double x : f) saveat.push_back(a + x * (b - a));
    }
  }
};

template <class T>
bool SameBits(const T* a, const T* b, size_t n) {
  return std::memcmp(a, b, n * sizeof(T)) == 0;
}

// Solves `count` trajectories of kSpanModel (w drawn per trajectory) with per-trajectory
// spans (save times too when with_saveat), then each alone, on `backend`.
inline void ExpectSpansEqualSeparateSolves(Backend& backend, SolveOptions o, int64_t count,
                                           bool with_saveat, uint32_t seed) {
  auto parsed = Model::Parse(kSpanModel);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Model& model = **parsed;
  const RandomSpans spans(count, with_saveat ? 5 : 0, seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> w(0.5, 2);
  std::vector<double> p(count);
  for (double& x : p) x = w(rng);
  SCOPED_TRACE(::testing::Message()
               << AlgorithmName(o.algorithm) << " " << PrecisionName(o.precision) << " seed "
               << seed << (with_saveat ? " saveat" : " final state"));
  const int np = model.num_params();
  SolveOptions all = o;
  all.span_per_trajectory = true;
  all.saveat.clear();
  all.saveat_per_trajectory = spans.num_save;
  auto prepared = backend.Prepare(model, all);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  BatchInputs in{count, nullptr, 1, p.data(), count};
  in.t0 = spans.t0.data();
  in.t1 = spans.t1.data();
  if (with_saveat) in.saveat = spans.saveat.data();
  absl::StatusOr<BatchResult> together = backend.Solve(**prepared, all, in);
  ASSERT_TRUE(together.ok()) << together.status();
  const BatchResult& r = *together;
  const int64_t width = int64_t{r.num_save} * r.num_states;
  int successes = 0;
  for (int64_t k = 0; k < count; ++k) {
    SolveOptions one = o;
    one.t0 = spans.t0[k];
    one.t1 = spans.t1[k];
    one.saveat.assign(spans.saveat.begin() + k * spans.num_save,
                      spans.saveat.begin() + (k + 1) * spans.num_save);
    ASSERT_TRUE(ValidateOptions(one).ok()) << ValidateOptions(one);
    absl::StatusOr<BatchResult> alone =
        backend.Solve(**prepared, one, BatchInputs{1, nullptr, 1, p.data() + k * np, 1});
    ASSERT_TRUE(alone.ok()) << alone.status();
    const BatchResult& s = *alone;
    ASSERT_EQ(s.num_save, r.num_save);
    const bool f32 = o.precision == Precision::kFloat32;
    const bool same = f32 ? SameBits(r.states_f32.data() + k * width, s.states_f32.data(), width)
                          : SameBits(r.states_f64.data() + k * width, s.states_f64.data(), width);
    EXPECT_TRUE(same) << "trajectory " << k << ": t0 = " << spans.t0[k] << ", t1 = " << spans.t1[k];
    EXPECT_EQ(r.retcodes[k], s.retcodes[0]) << "trajectory " << k;
    EXPECT_TRUE(SameBits(&r.t_final[k], &s.t_final[0], 1)) << "trajectory " << k;
    EXPECT_EQ(r.stats[k].accepted, s.stats[0].accepted) << "trajectory " << k;
    EXPECT_EQ(r.stats[k].rhs_evals, s.stats[0].rhs_evals) << "trajectory " << k;
    successes += s.retcodes[0] == RetCode::kSuccess;
    // Each trajectory reached its own t1.
    if (s.retcodes[0] == RetCode::kSuccess) {
      EXPECT_EQ(r.t_final[k], f32 ? double(float(spans.t1[k])) : spans.t1[k]);
    }
  }
  EXPECT_EQ(successes, count);
}

// The check for every method of the table, both precisions, with and without save times
// (fixed-step methods at dt = 0.01, adaptive ones at tolerance 1e-6).
inline void ExpectSpansEqualSeparateSolvesForEveryMethod(Backend& backend, uint32_t seed) {
  const int64_t count = 29;  // not a multiple of the lanes of a pack
  for (int i = 0; i < kNumAlgorithms; ++i) {
    const AlgorithmInfo& info = AlgorithmTable()[i];
    if (info.stochastic) continue;  // ODE models only
    SolveOptions o;
    o.algorithm = info.algorithm;
    o.adaptive = info.adaptive;
    o.abstol = o.reltol = 1e-6;
    if (!info.adaptive) o.dt = 0.01;
    for (Precision prec : {Precision::kFloat32, Precision::kFloat64}) {
      o.precision = prec;
      for (bool with_saveat : {false, true}) {
        ExpectSpansEqualSeparateSolves(backend, o, count, with_saveat, seed + i);
      }
    }
  }
}

}  // namespace ensolve::testing

#endif  // ENSOLVE_ENGINE_TESTING_SPANS_H_
