// SDEs on the GPU (ctest label `gpu`): em and siea against the CPU backend with the same
// seed (equal to rounding: the GPU fuses multiply-adds), with and without events, paths
// independent of batching,
// and the acceptance problems 9 and 10 (shared/acceptance/PROBLEMS.md). Every test SKIPS,
// with the reason, where there is no driver, device or NVRTC.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "engine/cuda/cuda_backend.h"
#include "engine/model/model.h"
#include "engine/testing/solve_options.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using ensolve::testing::Fixed;

std::unique_ptr<Model> Parse(const std::string& src) {
  auto m = Model::Parse(src);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

class CudaSde : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = NewCudaBackend(0);
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
  // Batches of 7 at four places give the bits of one batch of 10,000.
  void ExpectPathsIndependentOfBatching(const Model& m);

  std::unique_ptr<CudaBackend> gpu_;
  std::unique_ptr<Backend> cpu_;
};

constexpr char kDiagonal[] =
    "state x = 1, y = 2, z = 0\nparam k = 0.7\nx' = -k*x + y\ny' = sin(x) - y\nz' = x*y\n"
    "noise x = 0.3*x\nnoise y = 0.2 + 0.1*cos(t)\n";
constexpr char kMatrix[] =
    "state x = 1, y = 0\nparam a = 0.5\nwiener A, B, C\nx' = -x\ny' = x - y\n"
    "noise x = a*x*dA + dB\nnoise y = -dB + y*dC\n";

// kDiagonal with an `at` kick off the step grid and a crossing that resets x.
constexpr char kDiagonalEvents[] =
    "state x = 1, y = 2, z = 0\nparam k = 0.7\nx' = -k*x + y\ny' = sin(x) - y\nz' = x*y\n"
    "noise x = 0.3*x\nnoise y = 0.2 + 0.1*cos(t)\nat t = 0.37: y = y + 1\n"
    "when x - 2.5 crosses 0 up: x = 1\n";

SolveOptions Sde(Algorithm a, Precision p) {
  SolveOptions o = Fixed(a, 1, 1.0 / 64, p);
  for (int i = 0; i <= 16; ++i) o.saveat.push_back(i / 16.0);
  return o;
}

TEST_F(CudaSde, MatchesCpuBackendWithTheSameSeed) {
  struct Case {
    const char* model;
    Algorithm a;
  };
  for (const Case& c : {Case{kDiagonal, Algorithm::kEM}, Case{kDiagonal, Algorithm::kSIEA},
                        Case{kMatrix, Algorithm::kEM}, Case{kDiagonalEvents, Algorithm::kEM},
                        Case{kDiagonalEvents, Algorithm::kSIEA}}) {
    auto model = Parse(c.model);
    const bool events = model->num_events() > 0;
    int64_t fired = 0;
    for (Precision p : {Precision::kFloat32, Precision::kFloat64}) {
      // With events, float64 only: a crossing that float32 rounding decides differently on
      // the two backends would part the paths.
      if (events && p == Precision::kFloat32) continue;
      SCOPED_TRACE(std::string(AlgorithmName(c.a)) + " " + PrecisionName(p));
      const SolveOptions o = Sde(c.a, p);
      BatchInputs in{3001};
      in.first = 12345;  // the global index is part of the key
      in.seed = 99;
      auto g = Run(*gpu_, *model, o, in);
      auto h = Run(*cpu_, *model, o, in);
      ASSERT_TRUE(g.ok()) << g.status();
      ASSERT_TRUE(h.ok()) << h.status();
      // Float64: the normals agree to rounding (FMA in Box–Muller and the model), 64 steps.
      const double bound = p == Precision::kFloat32 ? 1e-4 : 1e-11;
      double worst = 0;
      for (int64_t k = 0; k < in.count; ++k) {
        ASSERT_EQ(g->retcodes[k], RetCode::kSuccess);
        if (events) {  // the kick cuts a step; each crossing lands inside one
          ASSERT_EQ(g->stats[k].accepted, h->stats[k].accepted) << k;
          ASSERT_EQ(g->events_fired[k], h->events_fired[k]) << k;
          ASSERT_GE(g->events_fired[k], 1) << k;
          fired += g->events_fired[k];
        } else {
          ASSERT_EQ(g->stats[k].accepted, 64);
        }
        for (int i = 0; i <= 16; ++i) {
          for (int s = 0; s < model->num_states(); ++s) {
            const double cpu = h->state(k, i, s);
            worst = std::max(worst, std::abs(g->state(k, i, s) - cpu) / (1 + std::abs(cpu)));
          }
        }
      }
      std::printf("%s %s%s: max |gpu - cpu| / (1 + |cpu|) = %.3g\n", AlgorithmName(c.a),
                  PrecisionName(p), events ? " with events" : "", worst);
      if (events) std::printf("  events fired: %lld\n", static_cast<long long>(fired));
      EXPECT_LT(worst, bound);
    }
  }
}

TEST_F(CudaSde, PathsDoNotDependOnBatching) {
  for (const char* src : {kDiagonal, kDiagonalEvents}) {
    ExpectPathsIndependentOfBatching(*Parse(src));
  }
}

void CudaSde::ExpectPathsIndependentOfBatching(const Model& m) {
  const Model* model = &m;
  for (Algorithm a : {Algorithm::kEM, Algorithm::kSIEA}) {
    const SolveOptions o = Sde(a, Precision::kFloat64);
    BatchInputs whole{10000};
    whole.seed = 5;
    auto w = Run(*gpu_, *model, o, whole);
    ASSERT_TRUE(w.ok()) << w.status();
    for (int64_t first : {0, 7, 4998, 9993}) {
      BatchInputs part{7};
      part.first = first;
      part.seed = 5;
      auto r = Run(*gpu_, *model, o, part);
      ASSERT_TRUE(r.ok()) << r.status();
      const size_t per = 17 * 3;
      EXPECT_EQ(std::memcmp(r->states_f64.data(), w->states_f64.data() + first * per,
                            7 * per * sizeof(double)),
                0)
          << AlgorithmName(a) << " first " << first;
    }
  }
}

double WeakOrder(Backend& b, Algorithm a, int64_t count, const std::vector<int>& log2_dts) {
  auto model = Parse("state x = 0.1\nparam mu = 1.5, sigma = 0.01\nx' = mu*x\nnoise x = sigma*x\n");
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (int e : log2_dts) {
    const double dt = std::ldexp(1, e);
    SolveOptions o = Fixed(a, 1, dt, Precision::kFloat32);
    BatchInputs in{count};
    in.seed = 20261202;
    auto prepared = b.Prepare(*model, o);
    EXPECT_TRUE(prepared.ok()) << prepared.status();
    auto r = b.Solve(**prepared, o, in);
    EXPECT_TRUE(r.ok()) << r.status();
    double mean = 0;
    for (int64_t k = 0; k < count; ++k) mean += r->state(k, 0, 0);
    mean /= count;
    const double err = std::abs(mean - 0.1 * std::exp(1.5));
    std::printf("%s dt = 2^%d: weak error %.3e\n", AlgorithmName(a), e, err);
    sx += std::log(dt);
    sy += std::log(err);
    sxx += std::log(dt) * std::log(dt);
    sxy += std::log(dt) * std::log(err);
  }
  const double n = static_cast<double>(log2_dts.size());
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

TEST_F(CudaSde, AcceptanceProblem9) {
  EXPECT_NEAR(WeakOrder(*gpu_, Algorithm::kEM, 100000, {-12, -11, -10, -9, -8}), 1.0, 0.1);
  EXPECT_NEAR(WeakOrder(*gpu_, Algorithm::kSIEA, 50000, {-6, -5, -4}), 2.0, 0.4);
}

TEST_F(CudaSde, AcceptanceProblem10) {
  auto model = Parse("state x = 0.5\nparam mu = 1, sigma = 1\nx' = mu*x\nnoise x = sigma*x\n");
  for (Algorithm a : {Algorithm::kEM, Algorithm::kSIEA}) {
    SolveOptions o = Fixed(a, 1, std::ldexp(1, -8), Precision::kFloat32);
    for (int i = 0; i <= 16; ++i) o.saveat.push_back(i / 16.0);
    BatchInputs in{1000};
    in.seed = 10;
    auto r = Run(*gpu_, *model, o, in);
    ASSERT_TRUE(r.ok()) << r.status();
    double worst = 0;
    for (int i = 0; i <= 16; ++i) {
      double mean = 0;
      for (int64_t k = 0; k < in.count; ++k) mean += r->state(k, i, 0);
      worst = std::max(worst, std::abs(mean / in.count - 0.5 * std::exp(o.saveat[i])));
    }
    std::printf("%s: max |mean - 0.5 e^t| = %.4f\n", AlgorithmName(a), worst);
    EXPECT_LT(worst, 6e-2);
  }
}

}  // namespace
}  // namespace ensolve
