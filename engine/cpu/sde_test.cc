// SDEs on the CPU backend: the acceptance problems 9 and 10 (shared/acceptance/PROBLEMS.md:
// geometric Brownian motion, weak order and mean), a noise matrix with two Wiener processes
// against its exact moments, paths bitwise independent of batching, threads and slices, and
// the request checks. (ctest runs this binary once per instruction set, as the other CPU
// backend tests, so paths are also compared across instruction sets through the pinned
// values below.)
#include <cmath>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "engine/backend.h"
#include "engine/testing/solve_options.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using testing::Fixed;

std::unique_ptr<Model> Parse(const std::string& src) {
  auto m = Model::Parse(src);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

absl::StatusOr<BatchResult> Solve(Backend& b, const Model& m, const SolveOptions& o,
                                  const BatchInputs& in) {
  if (absl::Status s = ValidateOptions(o); !s.ok()) return s;
  auto prepared = b.Prepare(m, o);
  if (!prepared.ok()) return prepared.status();
  return b.Solve(**prepared, o, in);
}

// dX = mu X dt + sigma X dW.
std::string Gbm(double x0, double mu, double sigma) {
  return "state x = " + std::to_string(x0) + "\nparam mu = " + std::to_string(mu) +
         ", sigma = " + std::to_string(sigma) + "\nx' = mu*x\nnoise x = sigma*x\n";
}

// The mean of state 0 at save point `save` over all trajectories (all must succeed).
double Mean(const BatchResult& r, int save) {
  double s = 0;
  for (int64_t k = 0; k < r.count; ++k) {
    EXPECT_EQ(r.retcodes[k], RetCode::kSuccess);
    s += r.state(k, save, 0);
  }
  return s / static_cast<double>(r.count);
}

// Least-squares slope of log |E X(1) - x0 e^mu| against log dt: the weak order.
double WeakOrder(Algorithm a, int64_t trajectories, const std::vector<double>& dts) {
  auto model = Parse(Gbm(0.1, 1.5, 0.01));
  auto backend = NewCpuBackend();
  const double exact = 0.1 * std::exp(1.5);
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (double dt : dts) {
    BatchInputs in{trajectories};
    in.seed = 20261202;
    auto r = Solve(*backend, *model, Fixed(a, 1, dt, Precision::kFloat32), in);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return 0;
    const double err = std::abs(Mean(*r, 0) - exact);
    std::printf("%s dt = 2^%g: weak error %.3e\n", AlgorithmName(a), std::log2(dt), err);
    const double x = std::log(dt), y = std::log(err);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double n = static_cast<double>(dts.size());
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

// Problem 9: dX = 1.5 X dt + 0.01 X dW, X0 = 0.1, t in [0, 1].
TEST(AcceptanceProblem9, EmHasWeakOrderOne) {
  const double order = WeakOrder(Algorithm::kEM, 100000,
                                 {std::ldexp(1, -12), std::ldexp(1, -11), std::ldexp(1, -10),
                                  std::ldexp(1, -9), std::ldexp(1, -8)});
  std::printf("em: fitted weak order %.3f\n", order);
  EXPECT_NEAR(order, 1.0, 0.1);
}

TEST(AcceptanceProblem9, SieaHasWeakOrderTwo) {
  const double order =
      WeakOrder(Algorithm::kSIEA, 50000, {std::ldexp(1, -6), std::ldexp(1, -5), std::ldexp(1, -4)});
  std::printf("siea: fitted weak order %.3f\n", order);
  EXPECT_NEAR(order, 2.0, 0.4);
}

// Problem 10: dX = X dt + X dW, X0 = 0.5, dt = 2^-8, 1000 trajectories; the mean at every
// save point within 6e-2 of 0.5 e^t.
TEST(AcceptanceProblem10, GbmMean) {
  auto model = Parse(Gbm(0.5, 1, 1));
  auto backend = NewCpuBackend();
  for (Algorithm a : {Algorithm::kEM, Algorithm::kSIEA}) {
    SolveOptions o = Fixed(a, 1, std::ldexp(1, -8), Precision::kFloat32);
    for (int i = 0; i <= 16; ++i) o.saveat.push_back(i / 16.0);
    BatchInputs in{1000};
    in.seed = 10;
    auto r = Solve(*backend, *model, o, in);
    ASSERT_TRUE(r.ok()) << r.status();
    double worst = 0;
    for (int i = 0; i <= 16; ++i) {
      worst = std::max(worst, std::abs(Mean(*r, i) - 0.5 * std::exp(o.saveat[i])));
    }
    std::printf("%s: max |mean - 0.5 e^t| = %.4f\n", AlgorithmName(a), worst);
    EXPECT_LT(worst, 6e-2) << AlgorithmName(a);
  }
}

// Two Wiener processes through a noise matrix: x = x0 + a W1 + b W2, y = c W1 - d W2
// exactly (additive noise: em is exact in distribution for any dt), so at t = 2
// Var x = (a^2 + b^2) t, Var y = (c^2 + d^2) t, Cov = (a c - b d) t.
TEST(NoiseMatrix, TwoWienerProcessesHaveTheirMoments) {
  auto model = Parse(
      "state x = 1, y = 0\nparam a = 0.5, b = 1.5, c = 2, d = 0.25\nwiener W1, W2\n"
      "x' = 0\ny' = 0\nnoise x = a*dW1 + b*dW2\nnoise y = c*dW1 - d*dW2\n");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->num_wiener(), 2);
  EXPECT_FALSE(model->noise_is_diagonal());
  auto backend = NewCpuBackend();
  const int64_t count = 40000;
  BatchInputs in{count};
  in.seed = 7;
  auto r = Solve(*backend, *model, Fixed(Algorithm::kEM, 2, 0.125, Precision::kFloat64), in);
  ASSERT_TRUE(r.ok()) << r.status();
  double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
  for (int64_t k = 0; k < count; ++k) {
    mx += r->state(k, 0, 0);
    my += r->state(k, 0, 1);
  }
  mx /= count;
  my /= count;
  for (int64_t k = 0; k < count; ++k) {
    const double dx = r->state(k, 0, 0) - mx, dy = r->state(k, 0, 1) - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  sxx /= count - 1;
  syy /= count - 1;
  sxy /= count - 1;
  const double t = 2, vx = (0.25 + 2.25) * t, vy = (4 + 0.0625) * t, cxy = (1 - 0.375) * t;
  // Five standard errors of each estimate (normal data: Var(s^2) = 2 s^4 / N, and
  // Var(s_xy) = (s_xx s_yy + s_xy^2) / N).
  EXPECT_NEAR(mx, 1, 5 * std::sqrt(vx / count));
  EXPECT_NEAR(my, 0, 5 * std::sqrt(vy / count));
  EXPECT_NEAR(sxx, vx, 5 * vx * std::sqrt(2.0 / count));
  EXPECT_NEAR(syy, vy, 5 * vy * std::sqrt(2.0 / count));
  EXPECT_NEAR(sxy, cxy, 5 * std::sqrt((vx * vy + cxy * cxy) / count));
}

// Every trajectory's path (17 save points) for trajectories [first, first + count).
std::vector<double> Paths(Backend& b, const Model& m, Algorithm a, Precision p, int64_t first,
                          int64_t count, double slice_seconds = 0) {
  SolveOptions o = Fixed(a, 1, 1.0 / 64, p);
  for (int i = 0; i <= 16; ++i) o.saveat.push_back(i / 16.0 + (i % 3 == 1 ? 0.01 : 0.0));
  o.saveat.back() = 1;
  BatchInputs in{count};
  in.first = first;
  in.seed = 0x123456789abcdefull;
  in.slice_seconds = slice_seconds;
  auto prepared = b.Prepare(m, o);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  auto r = b.Solve(**prepared, o, in);
  EXPECT_TRUE(r.ok()) << r.status();
  while (r.ok() && r->resume.Unfinished() > 0) {
    BatchResult partial = *std::move(r);
    in.resume = &partial;
    r = b.Solve(**prepared, o, in);
  }
  std::vector<double> out;
  for (int64_t k = 0; k < count; ++k) {
    for (int i = 0; i <= 16; ++i) {
      for (int s = 0; s < m.num_states(); ++s) out.push_back(r->state(k, i, s));
    }
  }
  return out;
}

bool Same(const std::vector<double>& a, const std::vector<double>& b, size_t offset = 0) {
  return b.size() + offset <= a.size() &&
         std::memcmp(a.data() + offset, b.data(), b.size() * sizeof(double)) == 0;
}

// Diagonal noise on two states plus a noiseless one.
constexpr char kThreeStates[] =
    "state x = 1, y = 2, z = 0\nparam k = 0.7\nx' = -k*x + y\ny' = sin(x) - y\nz' = x*y\n"
    "noise x = 0.3*x\nnoise y = 0.2 + 0.1*cos(t)\n";

// The same with events: a kick at a time off the step grid (it cuts a step) and a crossing
// that resets x (located on the step's line; the next step runs to the grid point).
constexpr char kThreeStatesWithEvents[] =
    "state x = 1, y = 2, z = 0\nparam k = 0.7\nx' = -k*x + y\ny' = sin(x) - y\nz' = x*y\n"
    "noise x = 0.3*x\nnoise y = 0.2 + 0.1*cos(t)\nat t = 0.37: y = y + 1\n"
    "when x - 2.5 crosses 0 up: x = 1\n";

// Paths of `model` on 10,000 trajectories: the same bits in batches of 7 (one and three
// threads), of one trajectory, and in slices, as in one batch.
void ExpectPathsIndependentOfBatching(const Model& m) {
  const Model* model = &m;
  const int64_t count = 10000;
  auto one = NewCpuBackend(1), two = NewCpuBackend(2), three = NewCpuBackend(3);
  const size_t per = 17 * 3;
  for (Algorithm a : {Algorithm::kEM, Algorithm::kSIEA}) {
    for (Precision p : {Precision::kFloat32, Precision::kFloat64}) {
      SCOPED_TRACE(std::string(AlgorithmName(a)) + " " + PrecisionName(p));
      const std::vector<double> whole = Paths(*two, *model, a, p, 0, count);
      // Batches of 7, at the start on one thread and at the end on three (the last one
      // shorter: 10,000 = 7 x 1428 + 4).
      for (auto [b, from, to] : {std::tuple{one.get(), int64_t{0}, int64_t{1001}},
                                 std::tuple{three.get(), int64_t{8996}, count}}) {
        std::vector<double> pieces;
        for (int64_t first = from; first < to; first += 7) {
          const std::vector<double> part =
              Paths(*b, *model, a, p, first, std::min<int64_t>(7, to - first));
          pieces.insert(pieces.end(), part.begin(), part.end());
        }
        EXPECT_TRUE(Same(whole, pieces, from * per)) << "from " << from;
      }
      // Batches of one trajectory, at both ends and in the middle.
      for (int64_t k : {0, 1, 4999, 9998, 9999}) {
        EXPECT_TRUE(Same(whole, Paths(*one, *model, a, p, k, 1), k * per)) << "trajectory " << k;
      }
      // A batch cut into slices of about 2 ms, resumed until done.
      EXPECT_TRUE(Same(whole, Paths(*two, *model, a, p, 0, count, 2e-3)));
      // Different trajectories follow different paths.
      EXPECT_FALSE(Same(whole, Paths(*one, *model, a, p, 1, 1)));
    }
  }
}

TEST(Reproducibility, PathsDoNotDependOnBatchingThreadsOrSlices) {
  for (const char* src : {kThreeStates, kThreeStatesWithEvents}) {
    auto model = Parse(src);
    ASSERT_NE(model, nullptr);
    EXPECT_TRUE(model->noise_is_diagonal());
    SCOPED_TRACE(model->num_events() > 0 ? "with events" : "without events");
    ExpectPathsIndependentOfBatching(*model);
  }
}

// A path pinned to its values: the same on every instruction set (ctest's ISA-forced runs
// of this binary) and every machine, since the normals' math is written out (philox.h)
// and the model uses no libm function.
TEST(Reproducibility, PinnedPath) {
  // Only + - * / in the model: IEEE arithmetic, the same bits on every machine.
  auto model = Parse(
      "state x = 1, y = 2, z = 0\nparam k = 0.7\nx' = -k*x + y\ny' = x - y*y/4\nz' = x*y\n"
      "noise x = 0.3*x\nnoise y = 0.2 + 0.1*x\n");
  ASSERT_NE(model, nullptr);
  auto backend = NewCpuBackend(2);
  const std::vector<double> p =
      Paths(*backend, *model, Algorithm::kSIEA, Precision::kFloat64, 12345, 1);
  const uint64_t want[3] = {0x3ffb6733fc4f2aceull, 0x400296e41bbf8766ull,
                            0x4007e0cbd07c122cull};  // x, y, z at t = 1
  for (int s = 0; s < 3; ++s) {
    uint64_t bits;
    std::memcpy(&bits, &p[16 * 3 + s], 8);
    std::printf("state %d at t = 1: %.17g (0x%016llx)\n", s, p[16 * 3 + s],
                static_cast<unsigned long long>(bits));
    EXPECT_EQ(bits, want[s]) << s;
  }
}

TEST(Validation, MethodMustFitTheModel) {
  auto ode = Parse("state x = 1\nx' = -x\n");
  auto sde = Parse(Gbm(1, 1, 1));
  auto matrix = Parse("state x, y\nwiener A, B\nx' = 0\ny' = 0\nnoise x = dA + dB\nnoise y = dA\n");
  EXPECT_EQ(CheckAlgorithmFitsModel(*ode, Algorithm::kEM).message(),
            "algorithm: em is an SDE method, but the model has no noise (no line noise x = ...); "
            "use an ODE method such as tsit5");
  EXPECT_EQ(CheckAlgorithmFitsModel(*sde, Algorithm::kTsit5).message(),
            "algorithm: tsit5 is an ODE method, but the model has noise (an SDE); use an SDE "
            "method: em or siea");
  EXPECT_EQ(CheckAlgorithmFitsModel(*matrix, Algorithm::kSIEA).message(),
            "algorithm: siea needs diagonal noise (each state driven by at most one Wiener "
            "process), but state 'x' has terms in 2 Wiener processes; use em");
  EXPECT_TRUE(CheckAlgorithmFitsModel(*matrix, Algorithm::kEM).ok());
  EXPECT_TRUE(CheckAlgorithmFitsModel(*sde, Algorithm::kSIEA).ok());
  auto kicked = Parse("state x = 1\nx' = -x\nnoise x = x\nat t = 0.5: x = 2\n");
  EXPECT_TRUE(CheckAlgorithmFitsModel(*kicked, Algorithm::kEM).ok());  // sde_events_test
  auto backend = NewCpuBackend(1);
  SolveOptions o = Fixed(Algorithm::kEM, 1, 0.1, Precision::kFloat64);
  EXPECT_EQ(backend->Prepare(*ode, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.adaptive = true;
  EXPECT_EQ(ValidateOptions(o).message(),
            "adaptive: em is a fixed-step SDE method; set adaptive = false and dt > 0");
  o.adaptive = false;
  o.t1 = -1;
  EXPECT_EQ(ValidateOptions(o).message(),
            "t1: SDE methods integrate forward only (t1 > t0), got t0 = 0, t1 = -1");
}

}  // namespace
}  // namespace ensolve
