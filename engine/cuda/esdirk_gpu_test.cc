// The ESDIRK methods (kvaerno3, kvaerno5, trbdf2) on a GPU (ctest label `gpu`) against the
// CPU backend: Robertson ensembles over k1 (stiff, a Newton iteration per stage that needs
// different iteration counts per trajectory) and Lorenz (non-stiff), fixed and adaptive,
// float32 and float64; and Van der Pol at mu = 1000 solved on the GPU in the CPU's step
// count. SKIPS, with the reason, where there is no driver, device or NVRTC.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/test_models.h"
#include "engine/model/model.h"
#include "engine/testing/seed.h"
#include "engine/testing/solve_options.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using ensolve::testing::Fixed;

constexpr Algorithm kEsdirks[] = {Algorithm::kKvaerno3, Algorithm::kKvaerno5, Algorithm::kTrbdf2};

std::unique_ptr<Model> Parse(const char* src) {
  auto m = Model::Parse(src);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

class EsdirkGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CudaBackendOptions opts;
    opts.poison_outputs = true;
    auto b = NewCudaBackend(0, opts);
    if (!b.ok()) GTEST_SKIP() << "no GPU: " << b.status();
    gpu_ = *std::move(b);
    cpu_ = NewCpuBackend();
  }

  BatchResult Run(Backend& b, const Model& m, const SolveOptions& o, const BatchInputs& in) {
    EXPECT_TRUE(ValidateOptions(o).ok()) << ValidateOptions(o);
    auto prepared = b.Prepare(m, o);
    EXPECT_TRUE(prepared.ok()) << prepared.status();
    auto r = b.Solve(**prepared, o, in);
    EXPECT_TRUE(r.ok()) << r.status();
    return *std::move(r);
  }

  // GPU against CPU: the same return codes; states within `bound` relative to 1 + |cpu|;
  // accepted steps within `steps` plus `steps_share` of the CPU's (Newton decisions near
  // the tolerance can go either way under the GPU's FMA rounding, so even at a fixed step
  // the evaluation counts may differ; in float32 a step sequence, once moved, stays moved).
  void Compare(const Model& m, const SolveOptions& o, const BatchInputs& in, double bound,
               int steps, double steps_share = 0) {
    SCOPED_TRACE(::testing::Message() << AlgorithmName(o.algorithm) << " "
                                      << PrecisionName(o.precision) << " adaptive=" << o.adaptive);
    const BatchResult g = Run(*gpu_, m, o, in);
    const BatchResult h = Run(*cpu_, m, o, in);
    ASSERT_EQ(g.num_save, h.num_save);
    double worst = 0;
    int worst_steps = 0, worst_evals = 0, steps_over = 0;
    for (int64_t i = 0; i < in.count; ++i) {
      ASSERT_EQ(g.retcodes[i], h.retcodes[i]) << i;
      ASSERT_EQ(h.retcodes[i], RetCode::kSuccess) << i;
      const int differ = std::abs(g.stats[i].accepted - h.stats[i].accepted);
      worst_steps = std::max(worst_steps, differ);
      steps_over += differ > steps + steps_share * h.stats[i].accepted;
      worst_evals = std::max(worst_evals, std::abs(g.stats[i].rhs_evals - h.stats[i].rhs_evals));
      for (int k = 0; k < g.num_save; ++k) {
        for (int s = 0; s < g.num_states; ++s) {
          const double want = h.state(i, k, s);
          worst = std::max(worst, std::abs(g.state(i, k, s) - want) / (1 + std::abs(want)));
        }
      }
    }
    std::printf("%-9s %s %s: |gpu - cpu| %.2e, steps differ by <= %d, evals by <= %d\n",
                AlgorithmName(o.algorithm), PrecisionName(o.precision),
                o.adaptive ? "adaptive" : "fixed", worst, worst_steps, worst_evals);
    EXPECT_LT(worst, bound);
    EXPECT_EQ(steps_over, 0);
  }

  std::unique_ptr<CudaBackend> gpu_;
  std::unique_ptr<Backend> cpu_;
};

TEST_F(EsdirkGpuTest, RobertsonEnsembleMatchesCpu) {
  auto model = Parse(cuda::testing::kRobertson);
  std::mt19937_64 rng(ensolve::testing::TestSeed("RobertsonEnsembleMatchesCpu"));
  std::uniform_real_distribution<double> uni(0.02, 0.08);
  const int n = 2001;
  std::vector<double> p(3 * n);
  for (int i = 0; i < n; ++i) {
    p[3 * i] = uni(rng);
    p[3 * i + 1] = 3e7;
    p[3 * i + 2] = 1e4;
  }
  const BatchInputs in{n, nullptr, 1, p.data(), n};
  for (Algorithm a : kEsdirks) {
    SolveOptions o = Fixed(a, 1e5, 1e5, Precision::kFloat64);
    o.adaptive = true;
    o.dt = 0;
    o.abstol = 1e-8;
    o.reltol = 1e-6;
    o.saveat = {1, 100, 1e4, 1e5};
    Compare(*model, o, in, 1e-5, 5);
    o.precision = Precision::kFloat32;
    o.abstol = 1e-6;
    o.reltol = 1e-4;
    // kvaerno5 takes about 70 steps here; an H200 measured counts up to 12 apart.
    Compare(*model, o, in, 1e-2, 10, 0.1);
    // (No fixed-step case: at dt = 1e-3 the stage Newton iteration does not meet its
    // fixed-step criterion on Robertson and every trajectory ends `singular`, on both
    // backends alike; docs/algorithms.md says to run stiff problems adaptively.)
  }
}

TEST_F(EsdirkGpuTest, LorenzEnsembleMatchesCpu) {
  auto model = Parse(cuda::testing::kLorenz);
  std::mt19937_64 rng(ensolve::testing::TestSeed("LorenzEnsembleMatchesCpu"));
  std::uniform_real_distribution<double> uni(0, 1);
  const int n = 2001;
  std::vector<double> u0(3 * n), p(3 * n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < 3; ++j) u0[3 * i + j] = uni(rng) * 4 - 2;
    p[3 * i] = 5 + 10 * uni(rng);
    p[3 * i + 1] = 30 * uni(rng);
    p[3 * i + 2] = 1 + 2 * uni(rng);
  }
  const BatchInputs in{n, u0.data(), n, p.data(), n};
  for (Algorithm a : kEsdirks) {
    for (Precision pr : {Precision::kFloat32, Precision::kFloat64}) {
      const double round = pr == Precision::kFloat32 ? 2e-3 : 1e-10;
      Compare(*model, Fixed(a, 1, 1e-3, pr), in, round, 0);
      SolveOptions o = Fixed(a, 1, 1e-3, pr);
      o.adaptive = true;
      o.dt = 0;
      o.abstol = o.reltol = pr == Precision::kFloat32 ? 1e-5 : 1e-8;
      o.saveat = {0.1, 0.5, 1};
      // float32: where a lane's Newton iteration stops moves with the GPU's FMA rounding,
      // and Lorenz amplifies the difference (measured on an H200: up to 2.8e-3 at 1e-5).
      Compare(*model, o, in, pr == Precision::kFloat32 ? 1e-2 : 100 * o.reltol, 5);
    }
  }
}

TEST_F(EsdirkGpuTest, VanDerPolMu1000) {
  auto model = Parse(R"(state x = 2, y = 0
param mu = 1000
x' = y
y' = mu*(1 - x^2)*y - x
)");
  for (Algorithm a : kEsdirks) {
    SolveOptions o = Fixed(a, 3000, 1, Precision::kFloat64);
    o.adaptive = true;
    o.dt = 0;
    o.abstol = o.reltol = 1e-6;
    const BatchResult g = Run(*gpu_, *model, o, BatchInputs{64});
    const BatchResult h = Run(*cpu_, *model, o, BatchInputs{1});
    ASSERT_EQ(g.retcodes[0], RetCode::kSuccess) << AlgorithmName(a);
    std::printf("vanderpol gpu %-9s accepted %d rejected %d (cpu %d %d), x %.6f (cpu %.6f)\n",
                AlgorithmName(a), g.stats[0].accepted, g.stats[0].rejected, h.stats[0].accepted,
                h.stats[0].rejected, g.state(0, 0, 0), h.state(0, 0, 0));
    EXPECT_NEAR(g.stats[0].accepted, h.stats[0].accepted, 0.05 * h.stats[0].accepted);
    EXPECT_NEAR(g.state(0, 0, 0), h.state(0, 0, 0), 1e-3);
  }
}

}  // namespace
}  // namespace ensolve
