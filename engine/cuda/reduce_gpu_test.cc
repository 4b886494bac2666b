// Reductions on the GPU (ctest label `gpu`; SKIPS without a driver, device or NVRTC): the
// device's statistics of a batch equal those computed on the host from the same device
// output (two passes, long double) to rounding, counts and histograms exactly, for batch
// sizes 1, 7 and 20,000, float32 and float64, shared and per-quantity edges; without
// keep_states only the statistics come back, bitwise the same; and they agree with the CPU
// backend's to the solvers' rounding. Inputs are fresh random draws; the seed is logged
// (ENSOLVE_TEST_SEED=<seed> repeats a run).
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backend.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/testing/reduction_reference.h"
#include "engine/testing/seed.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

// Rates from [-1, 30]: fast ones fail (max_steps); `root` is NaN where x < 1.
constexpr char kGrowth[] = "state x = 0.1\nparam mu = 1.5\noutput root = sqrt(x - 1)\nx' = mu*x\n";

class ReduceGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = NewCudaBackend(0);
    if (!b.ok()) GTEST_SKIP() << "no GPU: " << b.status();
    gpu_ = *std::move(b);
    cpu_ = NewCpuBackend();
    auto m = Model::Parse(kGrowth);
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = *std::move(m);
    options_.t1 = 1;
    options_.saveat = {0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1};
    options_.abstol = options_.reltol = 1e-8;
    options_.max_steps = 60;
    options_.outputs = {"x", "root"};
  }

  absl::StatusOr<BatchResult> Run(Backend& b, const std::vector<double>& p,
                                  const ReductionSpec& spec) {
    auto prepared = b.Prepare(*model_, options_);
    if (!prepared.ok()) return prepared.status();
    BatchInputs in;
    in.count = static_cast<int64_t>(p.size());
    in.p = p.data();
    in.p_rows = in.count;
    in.reduction = &spec;
    return b.Solve(**prepared, options_, in);
  }

  std::unique_ptr<CudaBackend> gpu_;
  std::unique_ptr<Backend> cpu_;
  std::unique_ptr<Model> model_;
  SolveOptions options_;
};

ReductionSpec Spec(bool per_quantity) {
  ReductionSpec s;
  s.num_save = 9;
  s.width = 2;
  s.bins = 7;
  s.edges = {-2, 0, 0.5, 1, 2, 5, 50, 1000};
  if (per_quantity) {
    s.per_quantity_edges = true;
    for (double e : {0.0, 0.25, 0.5, 0.75, 1.0, 2.0, 4.0, 8.0}) s.edges.push_back(e);
  }
  return s;
}

TEST_F(ReduceGpuTest, DeviceStatisticsEqualTheHostsOfTheSameOutput) {
  std::mt19937_64 rng(testing::TestSeed("reduce_gpu_test"));
  std::uniform_real_distribution<double> mu(-1, 30);
  for (Precision prec : {Precision::kFloat64, Precision::kFloat32}) {
    options_.precision = prec;
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{20000}}) {
      for (bool per_quantity : {false, true}) {
        const std::string what = absl::StrCat(PrecisionName(prec), ", ", n, " trajectories",
                                              per_quantity ? ", edges per quantity" : "");
        std::vector<double> p(n);
        for (double& v : p) v = mu(rng);
        ReductionSpec spec = Spec(per_quantity);
        absl::StatusOr<BatchResult> kept = Run(*gpu_, p, spec);
        ASSERT_TRUE(kept.ok()) << kept.status();
        ASSERT_TRUE(kept->reduction.has_value()) << what;
        const testing::ReferenceStats ref = testing::ReferenceReduction(
            spec, n, [&](int64_t k) { return static_cast<int>(kept->retcodes[k]); },
            [&](int64_t k, int64_t c) {
              return prec == Precision::kFloat32 ? kept->states_f32[k * 18 + c]
                                                 : kept->states_f64[k * 18 + c];
            });
        testing::ExpectReductionMatches(*kept->reduction, ref, 1e-12, what);
        // Statistics only: the same figures, nothing per trajectory.
        spec.keep_states = false;
        absl::StatusOr<BatchResult> only = Run(*gpu_, p, spec);
        ASSERT_TRUE(only.ok()) << only.status();
        EXPECT_EQ(only->count, n);
        EXPECT_EQ(only->states_f64.size() + only->states_f32.size() + only->retcodes.size(), 0u);
        ASSERT_TRUE(only->reduction.has_value());
        for (size_t c = 0; c < ref.count.size(); ++c) {
          EXPECT_EQ(only->reduction->moments[c].mean, kept->reduction->moments[c].mean) << what;
          EXPECT_EQ(only->reduction->moments[c].m2, kept->reduction->moments[c].m2) << what;
        }
        EXPECT_EQ(only->reduction->histogram, kept->reduction->histogram) << what;
      }
    }
  }
}

TEST_F(ReduceGpuTest, AgreesWithTheCpuBackend) {
  std::mt19937_64 rng(testing::TestSeed("reduce_gpu_test"));
  std::uniform_real_distribution<double> mu(-1, 30);
  std::vector<double> p(50000);
  for (double& v : p) v = mu(rng);
  ReductionSpec spec = Spec(false);
  spec.keep_states = false;
  absl::StatusOr<BatchResult> g = Run(*gpu_, p, spec);
  absl::StatusOr<BatchResult> c = Run(*cpu_, p, spec);
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_TRUE(c.ok()) << c.status();
  const Reduction& a = *g->reduction;
  const Reduction& b = *c->reduction;
  for (int i = 0; i < kReductionRetCodes; ++i) EXPECT_EQ(a.retcodes[i], b.retcodes[i]) << i;
  for (size_t k = 0; k < a.moments.size(); ++k) {
    // The two solvers agree to rounding (cuda_backend_test): values, and so statistics,
    // to far better than 1e-9; a count may differ only where a value sits on an edge.
    EXPECT_EQ(a.moments[k].n, b.moments[k].n) << k;
    EXPECT_NEAR(reduce::MeanOf(a.moments[k]), reduce::MeanOf(b.moments[k]),
                1e-9 * (1 + std::abs(reduce::MeanOf(b.moments[k]))))
        << k;
    if (b.moments[k].n < 2) {  // `root` before x reaches 1: no variance on either side
      EXPECT_TRUE(std::isnan(a.variance(k))) << k;
      EXPECT_TRUE(std::isnan(b.variance(k))) << k;
    } else {
      EXPECT_NEAR(a.variance(k), b.variance(k), 1e-9 * (1 + b.variance(k))) << k;
    }
  }
}

}  // namespace
}  // namespace ensolve
