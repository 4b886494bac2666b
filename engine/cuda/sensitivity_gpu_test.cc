// Forward sensitivity models (engine/model/sensitivity.h) on a GPU (ctest label `gpu`)
// against the CPU backend: the augmented Lorenz (explicit methods) and Robertson (stiff
// methods; 12 states, within the GPU's stiff limit) and a bouncing ball (sensitivities
// across events) at random parameters (seed logged), float64, with outputs' sensitivities;
// and the stiff limit read on the augmented size.
// SKIPS, with the reason, where there is no driver, device or NVRTC.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/test_models.h"
#include "engine/model/model.h"
#include "engine/model/sensitivity.h"
#include "engine/testing/events.h"
#include "engine/testing/seed.h"
#include "engine/testing/sensitivity.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

std::unique_ptr<Model> SensitivityModel(const char* src, const std::vector<std::string>& names) {
  auto base = testing::ParseOrFail(src);
  return base == nullptr ? nullptr : testing::Sens(*base, names);
}

class SensitivityGpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CudaBackendOptions opts;
    opts.poison_outputs = true;
    auto b = NewCudaBackend(0, opts);
    if (!b.ok()) GTEST_SKIP() << "no GPU: " << b.status();
    gpu_ = *std::move(b);
    cpu_ = NewCpuBackend();
  }

  absl::StatusOr<BatchResult> Run(Backend& b, const Model& m, const SolveOptions& o,
                                  const BatchInputs& in) {
    EXPECT_TRUE(ValidateOptions(o).ok()) << ValidateOptions(o);
    auto prepared = b.Prepare(m, o);
    if (!prepared.ok()) return prepared.status();
    return b.Solve(**prepared, o, in);
  }

  // GPU against CPU: same return codes, every saved value within bound x (1 + the largest
  // |CPU value| of its column over the ensemble).
  void Compare(const Model& m, const SolveOptions& o, const BatchInputs& in, double bound) {
    SCOPED_TRACE(AlgorithmName(o.algorithm));
    auto g = Run(*gpu_, m, o, in);
    auto h = Run(*cpu_, m, o, in);
    ASSERT_TRUE(g.ok()) << g.status();
    ASSERT_TRUE(h.ok()) << h.status();
    ASSERT_EQ(g->num_states, h->num_states);
    std::vector<double> scale(h->num_states, 0.0);
    for (int64_t i = 0; i < in.count; ++i) {
      ASSERT_EQ(g->retcodes[i], RetCode::kSuccess) << i;
      ASSERT_EQ(h->retcodes[i], RetCode::kSuccess) << i;
      for (int k = 0; k < h->num_save; ++k) {
        for (int s = 0; s < h->num_states; ++s) {
          scale[s] = std::max(scale[s], std::abs(h->state(i, k, s)));
        }
      }
    }
    double worst = 0;
    for (int64_t i = 0; i < in.count; ++i) {
      for (int k = 0; k < h->num_save; ++k) {
        for (int s = 0; s < h->num_states; ++s) {
          const double e = std::abs(g->state(i, k, s) - h->state(i, k, s)) / (1 + scale[s]);
          worst = std::max(worst, e);
          ASSERT_LE(e, bound) << "trajectory " << i << " save " << k << " value " << s;
        }
      }
    }
    std::printf("%s: GPU vs CPU on the sensitivity model (%d states), worst %.2e\n",
                AlgorithmName(o.algorithm), m.num_states(), worst);
  }

  std::unique_ptr<CudaBackend> gpu_;
  std::unique_ptr<Backend> cpu_;
};

TEST_F(SensitivityGpuTest, LorenzExplicitMethodsMatchCpu) {
  auto model = SensitivityModel(cuda::testing::kLorenz, {"sigma", "rho", "beta"});
  ASSERT_NE(model, nullptr);
  const uint64_t seed = ensolve::testing::TestSeed("LorenzExplicitMethodsMatchCpu");
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> f(0.8, 1.2);
  const int n = 1000;
  std::vector<double> p(3 * n);
  for (int i = 0; i < n; ++i) {
    p[3 * i] = 10 * f(rng);
    p[3 * i + 1] = 28 * f(rng);
    p[3 * i + 2] = 8.0 / 3 * f(rng);
  }
  for (Algorithm a : {Algorithm::kTsit5, Algorithm::kVern9}) {
    SolveOptions o;
    o.algorithm = a;
    o.t1 = 2;
    o.abstol = o.reltol = 1e-10;
    o.saveat = {0.5, 1, 2};
    Compare(*model, o, BatchInputs{n, nullptr, 1, p.data(), n}, 1e-6);
  }
}

TEST_F(SensitivityGpuTest, RobertsonStiffMethodsMatchCpu) {
  auto model = SensitivityModel(cuda::testing::kRobertson, {"k1", "k2", "k3"});
  ASSERT_NE(model, nullptr);
  ASSERT_EQ(model->num_states(), 12);
  const uint64_t seed = ensolve::testing::TestSeed("RobertsonStiffMethodsMatchCpu");
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> f(0.8, 1.25);
  const int n = 501;
  std::vector<double> p(3 * n);
  for (int i = 0; i < n; ++i) {
    p[3 * i] = 0.04 * f(rng);
    p[3 * i + 1] = 3e7 * f(rng);
    p[3 * i + 2] = 1e4 * f(rng);
  }
  for (Algorithm a : {Algorithm::kRodas5P, Algorithm::kRodas4, Algorithm::kKvaerno5}) {
    SolveOptions o;
    o.algorithm = a;
    o.t1 = 100;
    o.abstol = 1e-12;
    o.reltol = 1e-8;
    o.saveat = {1, 10, 100};
    Compare(*model, o, BatchInputs{n, nullptr, 1, p.data(), n}, 1e-5);
  }
}

// Sensitivities across events (a crossing whose time moves with every parameter): the
// jumps are assignments of the augmented model's event, so the GPU runs them unchanged.
TEST_F(SensitivityGpuTest, BouncesMatchCpu) {
  auto model = SensitivityModel(ensolve::testing::kGroundBall, {"g", "e", "h0", "ground"});
  ASSERT_NE(model, nullptr);
  ASSERT_EQ(model->num_states(), 10);
  const uint64_t seed = ensolve::testing::TestSeed("BouncesMatchCpu");
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(0, 1);
  const int n = 1000;
  std::vector<double> p(4 * n);
  for (int i = 0; i < n; ++i) {
    p[4 * i] = 8 + 4 * uni(rng);
    p[4 * i + 1] = 0.8 + 0.1 * uni(rng);
    p[4 * i + 2] = 4 + 2 * uni(rng);
    p[4 * i + 3] = uni(rng);
  }
  for (Algorithm a :
       {Algorithm::kTsit5, Algorithm::kVern9, Algorithm::kRodas5P, Algorithm::kKvaerno5}) {
    SolveOptions o;
    o.algorithm = a;
    o.t1 = 4;
    o.abstol = o.reltol = 1e-10;
    o.saveat = {0.3, 1.1, 1.9, 2.7, 3.5, 4};
    Compare(*model, o, BatchInputs{n, nullptr, 1, p.data(), n}, 1e-6);
  }
}

TEST_F(SensitivityGpuTest, OutputSensitivitiesMatchCpu) {
  auto model = SensitivityModel(
      "param w = 2, g = 0.1\nstate x = 1, y = 0\nx' = w*y - g*x\ny' = -w*x\n"
      "output energy = x^2 + y^2\n",
      {"w", "g"});
  ASSERT_NE(model, nullptr);
  std::vector<double> p(2 * 300);
  for (int i = 0; i < 300; ++i) {
    p[2 * i] = 0.5 + 0.01 * i;
    p[2 * i + 1] = 0.05;
  }
  SolveOptions o;
  o.t1 = 3;
  o.abstol = o.reltol = 1e-10;
  o.saveat = {1, 3};
  o.outputs = SensitivitySelection({"energy", "y"}, {"w", "g"});
  Compare(*model, o, BatchInputs{300, nullptr, 1, p.data(), 300}, 1e-8);
}

// 4 states with sensitivities to 4 parameters: 20 states, past the GPU's 16 for a stiff
// method; the message says where the 20 come from.
TEST_F(SensitivityGpuTest, StiffLimitReadsTheAugmentedSize) {
  std::string src;
  for (int i = 0; i < 4; ++i) absl::StrAppend(&src, "param k", i, " = 1\n");
  for (int i = 0; i < 4; ++i) absl::StrAppend(&src, "state u", i, " = 1\n");
  for (int i = 0; i < 4; ++i) absl::StrAppend(&src, "u", i, "' = -k", i, "*u", i, "\n");
  auto model = SensitivityModel(src.c_str(), {"k0", "k1", "k2", "k3"});
  ASSERT_NE(model, nullptr);
  SolveOptions o;
  o.algorithm = Algorithm::kRodas5P;
  o.t1 = 1;
  auto r = Run(*gpu_, *model, o, BatchInputs{4});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "model: 20 states (4 states and their sensitivities to 4 parameters) exceed the CUDA "
            "backend's limit of 16 states for rodas5p (it keeps an n x n matrix per trajectory); "
            "use an explicit method, fewer states or fewer sensitivities");
  o.algorithm = Algorithm::kTsit5;
  EXPECT_TRUE(Run(*gpu_, *model, o, BatchInputs{4}).ok());
}

}  // namespace
}  // namespace ensolve
