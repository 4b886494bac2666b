// Forward sensitivities: the sensitivity model's structure (layout, names, J's nodes on the
// Jacobian's diagonal, the equations themselves), its errors, and its solutions on the CPU
// backend against analytic sensitivities (exponential decay; a damped oscillator, by the
// complex step on its closed form) and central finite differences of the base model
// (Lorenz with tsit5 and vern9, Robertson with rodas5p) at random parameters (seed logged).
#include "engine/model/sensitivity.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/algorithms/table.h"
#include "engine/backend.h"
#include "engine/ir/eval.h"
#include "engine/testing/lorenz.h"
#include "engine/testing/robertson.h"
#include "engine/testing/sensitivity.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using ::testing::HasSubstr;

constexpr char kDecay[] = R"(# exponential decay
state u = 1
param k = 0.5, unused = 3
output twice = 2*u
u' = -k*u
)";

constexpr char kOscillator[] = R"(# damped harmonic oscillator
state x = 1, v = 0
param w = 2, zeta = 0.1
x' = v
v' = -w^2*x - 2*zeta*w*v
)";

std::unique_ptr<Model> Parse(const char* src) { return testing::ParseOrFail(src); }
using testing::Sens;

absl::StatusOr<BatchResult> Solve(const Model& m, const SolveOptions& o, const BatchInputs& in) {
  return testing::SolveOnCpu(m, o, in);
}

SolveOptions Options(Algorithm a, double t1, double tol, std::vector<double> saveat) {
  return testing::SensOptions(a, t1, tol, std::move(saveat));
}

TEST(SensitivityModel, LayoutNamesAndHash) {
  auto base = Parse(testing::kLorenz);
  auto s = Sens(*base, {"rho", "sigma"});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->num_states(), 9);
  EXPECT_EQ(s->num_input_states(), 3);
  EXPECT_EQ(base->num_input_states(), 3);
  EXPECT_EQ(s->sensitivity_params(), (std::vector<int>{1, 0}));
  EXPECT_EQ(s->state_names()[3], "d(x)/d(rho)");
  EXPECT_EQ(s->state_names()[8], "d(z)/d(sigma)");
  EXPECT_EQ(s->param_names(), base->param_names());
  EXPECT_NE(s->hash(), base->hash());
  EXPECT_NE(s->hash(), Sens(*base, {"sigma", "rho"})->hash());
  EXPECT_EQ(s->hash(), Sens(*base, {"rho", "sigma"})->hash());
  EXPECT_EQ(
      SensitivitySelection({"x", "e"}, {"a", "b"}),
      (std::vector<std::string>{"x", "e", "d(x)/d(a)", "d(e)/d(a)", "d(x)/d(b)", "d(e)/d(b)"}));
  EXPECT_TRUE(SensitivitySelection({}, {"a"}).empty());
  // [q | block j=0 | block j=1] -> [q], [q][m].
  const double row[6] = {1, 2, 10, 20, 11, 21};
  double q[2], sens[4];
  SplitSensitivityRow(row, 2, 2, q, sens);
  EXPECT_EQ(q[0], 1);
  EXPECT_EQ(q[1], 2);
  EXPECT_EQ(sens[0], 10);  // d(q0)/d(p0)
  EXPECT_EQ(sens[1], 11);  // d(q0)/d(p1)
  EXPECT_EQ(sens[2], 20);
  EXPECT_EQ(sens[3], 21);
}

// The Jacobian's diagonal blocks are the base Jacobian's own nodes (shared, not rebuilt),
// the blocks above the diagonal and between different parameters' blocks are zero, and
// the right-hand side and the Jacobian agree with central differences of the base model.
TEST(SensitivityModel, EquationsAndBlockLowerTriangularJacobian) {
  auto base = Parse(testing::kLorenz);
  auto s = Sens(*base, {"sigma", "rho", "beta"});
  ASSERT_NE(s, nullptr);
  const int n = 3, m = 3, N = 12;
  const ir::Graph& g = s->graph();
  for (int bi = 0; bi <= m; ++bi) {
    for (int bj = 0; bj <= m; ++bj) {
      for (int i = 0; i < n; ++i) {
        for (int k = 0; k < n; ++k) {
          const ir::NodeId id = s->jacobian()[(bi * n + i) * N + bj * n + k];
          if (bi == bj) {
            EXPECT_EQ(id, base->jacobian()[i * n + k]) << bi << " " << i << " " << k;
          } else if (bj != 0) {
            EXPECT_TRUE(g.IsConstantEqual(id, 0.0)) << bi << " " << bj;
          }
        }
      }
    }
  }
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uni(-2, 2);
  std::vector<double> u(N), p = {10, 28, 8.0 / 3};
  for (double& x : u) x = uni(rng);
  const std::vector<double> f = ir::Evaluate(g, s->rhs(), 0.3, u.data(), p.data());
  const std::vector<double> jac = ir::Evaluate(g, s->jacobian(), 0.3, u.data(), p.data());
  const std::vector<double> bj =
      ir::Evaluate(base->graph(), base->jacobian(), 0.3, u.data(), p.data());
  for (int j = 0; j < m; ++j) {
    std::vector<double> pp = p, pm = p;
    const double h = 1e-6 * p[j];
    pp[j] += h;
    pm[j] -= h;
    const auto fp = ir::Evaluate(base->graph(), base->rhs(), 0.3, u.data(), pp.data());
    const auto fm = ir::Evaluate(base->graph(), base->rhs(), 0.3, u.data(), pm.data());
    for (int i = 0; i < n; ++i) {
      double expect = (fp[i] - fm[i]) / (2 * h);
      for (int k = 0; k < n; ++k) expect += bj[i * n + k] * u[n + j * n + k];
      EXPECT_NEAR(f[n + j * n + i], expect, 1e-6 * (1 + std::abs(expect))) << j << " " << i;
    }
  }
  for (int c = 0; c < N; ++c) {
    std::vector<double> up = u, um = u;
    up[c] += 1e-6;
    um[c] -= 1e-6;
    const auto fp = ir::Evaluate(g, s->rhs(), 0.3, up.data(), p.data());
    const auto fm = ir::Evaluate(g, s->rhs(), 0.3, um.data(), p.data());
    for (int r = 0; r < N; ++r) {
      EXPECT_NEAR(jac[r * N + c], (fp[r] - fm[r]) / 2e-6, 1e-5) << r << " " << c;
    }
  }
}

TEST(SensitivityParams, ErrorsNameTheEntry) {
  auto base = Parse(testing::kLorenz);
  auto bad = SensitivityParams(*base, {"rho", "sigmaa"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "sensitivities[1]: 'sigmaa' is not a parameter of the model (did you mean "
            "'sigma'?); expected one of sigma, rho, beta");
  auto state = SensitivityParams(*base, {"x"});
  EXPECT_EQ(state.status().message(),
            "sensitivities[0]: 'x' is not a parameter of the model; expected one of sigma, rho, "
            "beta");
  auto twice = SensitivityParams(*base, {"rho", "beta", "rho"});
  EXPECT_EQ(twice.status().message(), "sensitivities[2]: 'rho' is already sensitivities[0]");
  auto none = Parse("state x = 1\nx' = -x\n");
  EXPECT_EQ(SensitivityParams(*none, {"k"}).status().message(),
            "sensitivities[0]: 'k' is not a parameter: the model has none");
}

TEST(SensitivityModel, ModelsWithNoiseOrParameterEventsAreRefused) {
  auto sde = Parse("state x = 1\nparam k = 1\nx' = -k*x\nnoise x = x\n");
  EXPECT_EQ(CheckSensitivitiesSupported(*sde).message(),
            "sensitivities: the model is stochastic (it has noise terms); forward sensitivities "
            "are for ODE models");
  auto kicked = Parse("state x = 1\nparam k = 1\nx' = -k*x\nat t = 0.5: x = 2\n");
  EXPECT_TRUE(CheckSensitivitiesSupported(*kicked).ok());
  auto dosed = Parse(
      "state x = 1\nparam k = 1\nx' = -k*x\nat t = 0.5: x = 2\n"
      "when x - 0.5 crosses 0 down: k = 2*k\n");
  EXPECT_EQ(CheckSensitivitiesSupported(*dosed).message(),
            "sensitivities: the event at line 5, column 1 assigns parameter 'k'; sensitivities "
            "across events that assign parameters are not supported");
  EXPECT_EQ(BuildSensitivityModel(*dosed, {0}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SensitivityModel, AugmentedSizeOverTheLimit) {
  auto base = Parse(testing::kLorenz);
  ModelLimits limits;
  limits.max_states = 8;
  auto s = BuildSensitivityModel(*base, {0, 1}, limits);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(),
            "sensitivities: 2 parameters make the augmented system 3 x (1 + 2) = 9 states, "
            "over the limit max_model_states = 8; ask for fewer parameters");
  limits = ModelLimits{};
  limits.max_nodes = base->graph().size() + 3;
  s = BuildSensitivityModel(*base, {0, 1, 2}, limits);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("need more IR nodes than the limit max_nodes"));
  // The stiff methods' per-backend limit reads the augmented size.
  auto big = Sens(*base, {"sigma", "rho", "beta"});
  const absl::Status st = CheckStiffModelSize(*big, Algorithm::kRodas5P, 8, "CUDA");
  EXPECT_EQ(st.message(),
            "model: 12 states (3 states and their sensitivities to 3 parameters) exceed the CUDA "
            "backend's limit of 8 states for rodas5p (it keeps an n x n matrix per trajectory); "
            "use an explicit method, fewer states or fewer sensitivities");
}

// u' = -k u, u(0) = u0 given: du/dk = -t u0 exp(-k t), and the unused parameter's is 0.
// Every algorithm (fixed step for those without an error estimate).
TEST(Sensitivities, ExponentialDecayMatchesTheAnalyticSensitivity) {
  auto base = Parse(kDecay);
  auto s = Sens(*base, {"k", "unused"});
  ASSERT_NE(s, nullptr);
  const unsigned seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uk(0.2, 2), uu(0.5, 3);
  const int count = 37;
  std::vector<double> u0(count), p(2 * count);
  for (int i = 0; i < count; ++i) {
    u0[i] = uu(rng);
    p[2 * i] = uk(rng);
    p[2 * i + 1] = 3;
  }
  const std::vector<double> saves = {0.5, 1, 2};
  for (int a = 0; a < kNumAlgorithms; ++a) {
    const AlgorithmInfo& info = AlgorithmTable()[a];
    if (info.stochastic) continue;  // SDE methods: for models with noise
    SCOPED_TRACE(::testing::Message() << info.name << " seed " << seed);
    SolveOptions o = Options(info.algorithm, 2, 1e-10, saves);
    double tol = 1e-7;
    if (!info.adaptive) {
      o.adaptive = false;
      o.dt = info.order == 1 ? 1e-4 : 1e-3;
      tol = info.order == 1 ? 1e-3 : 1e-9;
    }
    auto r = Solve(*s, o, BatchInputs{count, u0.data(), count, p.data(), count});
    ASSERT_TRUE(r.ok()) << r.status();
    for (int i = 0; i < count; ++i) {
      ASSERT_EQ(r->retcodes[i], RetCode::kSuccess);
      for (int k = 0; k < 3; ++k) {
        const double t = saves[k], kk = p[2 * i];
        EXPECT_NEAR(r->state(i, k, 0), u0[i] * std::exp(-kk * t), tol * u0[i]);
        EXPECT_NEAR(r->state(i, k, 1), -t * u0[i] * std::exp(-kk * t), tol * u0[i]);
        EXPECT_EQ(r->state(i, k, 2), 0.0);
      }
    }
  }
}

// The closed form of x'' + 2 zeta w x' + w^2 x = 0 (underdamped), x(0) = x0, x'(0) = v0,
// in complex arithmetic so that the complex step gives exact derivatives in w and zeta.
template <class C>
void Oscillator(C w, C zeta, double x0, double v0, double t, C* x, C* v) {
  const C a = zeta * w, wd = w * std::sqrt(1.0 - zeta * zeta);
  const C A = x0, B = (v0 + a * x0) / wd;
  const C e = std::exp(-a * t), c = std::cos(wd * t), s = std::sin(wd * t);
  *x = e * (A * c + B * s);
  *v = e * ((-a * A + B * wd) * c + (-a * B - A * wd) * s);
}

TEST(Sensitivities, DampedOscillatorMatchesTheClosedForm) {
  auto base = Parse(kOscillator);
  auto s = Sens(*base, {"w", "zeta"});
  ASSERT_NE(s, nullptr);
  const unsigned seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uw(0.5, 3), uz(0.05, 0.6), ux(-1, 1);
  const int count = 16;
  std::vector<double> u0(2 * count), p(2 * count);
  for (int i = 0; i < count; ++i) {
    u0[2 * i] = ux(rng);
    u0[2 * i + 1] = ux(rng);
    p[2 * i] = uw(rng);
    p[2 * i + 1] = uz(rng);
  }
  const std::vector<double> saves = {0.7, 2.5, 6};
  for (Algorithm alg : {Algorithm::kVern9, Algorithm::kRodas5P, Algorithm::kKvaerno5}) {
    SCOPED_TRACE(::testing::Message() << AlgorithmName(alg) << " seed " << seed);
    auto r = Solve(*s, Options(alg, 6, 1e-11, saves),
                   BatchInputs{count, u0.data(), count, p.data(), count});
    ASSERT_TRUE(r.ok()) << r.status();
    double worst = 0;
    for (int i = 0; i < count; ++i) {
      ASSERT_EQ(r->retcodes[i], RetCode::kSuccess);
      for (int k = 0; k < 3; ++k) {
        using C = std::complex<double>;
        constexpr double h = 1e-30;
        C x, v;
        const double w = p[2 * i], z = p[2 * i + 1];
        Oscillator<C>(C(w, h), z, u0[2 * i], u0[2 * i + 1], saves[k], &x, &v);
        const double dx_dw = x.imag() / h, dv_dw = v.imag() / h;
        Oscillator<C>(w, C(z, h), u0[2 * i], u0[2 * i + 1], saves[k], &x, &v);
        const double dx_dz = x.imag() / h, dv_dz = v.imag() / h;
        const double expect[6] = {x.real(), v.real(), dx_dw, dv_dw, dx_dz, dv_dz};
        for (int q = 0; q < 6; ++q) {
          const double e = std::abs(r->state(i, k, q) - expect[q]);
          worst = std::max(worst, e);
          EXPECT_LT(e, 1e-7 * (1 + std::abs(expect[q]))) << i << " " << k << " " << q;
        }
      }
    }
    std::printf("%s: oscillator sensitivities, worst |error| %.2e\n", AlgorithmName(alg), worst);
  }
}

// Sensitivities from the augmented solve against central differences of base solves at
// p +- h e_j, all of one algorithm and tolerance: |S - FD| <= tol x the element's largest
// |FD| over the save points (+ abs_floor).
void CheckAgainstCentralDifferences(const char* src, const std::vector<std::string>& names,
                                    const std::vector<double>& p, Algorithm alg, double t1,
                                    const std::vector<double>& saves, double solve_tol,
                                    double rel_step, double tol, const std::string& trace) {
  SCOPED_TRACE(trace);
  auto base = Parse(src);
  auto s = Sens(*base, names);
  ASSERT_NE(s, nullptr);
  const int n = base->num_states(), np = base->num_params(), m = static_cast<int>(names.size());
  const int ns = static_cast<int>(saves.size());
  const SolveOptions o = Options(alg, t1, solve_tol, saves);
  auto r = Solve(*s, o, BatchInputs{1, nullptr, 1, p.data(), 1});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->retcodes[0], RetCode::kSuccess);
  // Rows: p + h_j e_j, p - h_j e_j for each j.
  std::vector<double> rows;
  std::vector<double> h(m);
  for (int j = 0; j < m; ++j) {
    const int pj = s->sensitivity_params()[j];
    h[j] = rel_step * std::abs(p[pj]);
    for (double sign : {1.0, -1.0}) {
      std::vector<double> q = p;
      q[pj] += sign * h[j];
      rows.insert(rows.end(), q.begin(), q.end());
    }
  }
  auto fd = Solve(*base, o, BatchInputs{2 * m, nullptr, 1, rows.data(), 2 * m});
  ASSERT_TRUE(fd.ok()) << fd.status();
  (void)np;
  double worst = 0;
  for (int j = 0; j < m; ++j) {
    for (int i = 0; i < n; ++i) {
      std::vector<double> d(ns);
      double scale = 0;
      for (int k = 0; k < ns; ++k) {
        d[k] = (fd->state(2 * j, k, i) - fd->state(2 * j + 1, k, i)) / (2 * h[j]);
        scale = std::max(scale, std::abs(d[k]));
      }
      for (int k = 0; k < ns; ++k) {
        const double got = r->state(0, k, n + j * n + i);
        const double rel = std::abs(got - d[k]) / (scale + 1e-300);
        worst = std::max(worst, rel);
        EXPECT_LE(std::abs(got - d[k]), tol * scale + 1e-300)
            << "d(" << base->state_names()[i] << ")/d(" << names[j] << ") at t = " << saves[k]
            << ": " << got << " vs " << d[k];
      }
      // The augmented solve's states are the base solve's (at the unperturbed p).
    }
  }
  std::printf("%s: worst |S - FD| / scale = %.2e\n", trace.c_str(), worst);
}

TEST(Sensitivities, LorenzMatchesCentralDifferences) {
  const unsigned seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> us(8, 12), ur(20, 30), ub(2, 3);
  const std::vector<double> p = {us(rng), ur(rng), ub(rng)};
  for (Algorithm alg : {Algorithm::kTsit5, Algorithm::kVern9}) {
    CheckAgainstCentralDifferences(testing::kLorenz, {"sigma", "rho", "beta"}, p, alg, 2,
                                   {0.5, 1, 1.5, 2}, 1e-12, 1e-5, 1e-5,
                                   absl::StrCat("Lorenz ", AlgorithmName(alg), " seed ", seed,
                                                " p = (", p[0], ", ", p[1], ", ", p[2], ")"));
  }
}

TEST(Sensitivities, RobertsonMatchesCentralDifferencesWithAStiffMethod) {
  const unsigned seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> f(0.8, 1.25);
  const std::vector<double> p = {0.04 * f(rng), 3e7 * f(rng), 1e4 * f(rng)};
  CheckAgainstCentralDifferences(
      testing::kRobertson, {"k1", "k2", "k3"}, p, Algorithm::kRodas5P, 40, {0.4, 4, 40}, 1e-10,
      1e-4, 1e-4,
      absl::StrCat("Robertson rodas5p seed ", seed, " p = (", p[0], ", ", p[1], ", ", p[2], ")"));
}

// The block LU (engine/algorithms/linsolve.h) against a dense LU of the same iteration
// matrices (ENSOLVE_CPU_DENSE_LU=1): the same solution to rounding (amplified a little by
// the step-size controller), for every stiff method, on the augmented Robertson.
TEST(Sensitivities, BlockLuEqualsDenseLu) {
  auto base = Parse(testing::kRobertson);
  auto s = Sens(*base, {"k1", "k2", "k3"});
  ASSERT_NE(s, nullptr);
  std::unique_ptr<Backend> blocks = NewCpuBackend(1);
  setenv("ENSOLVE_CPU_DENSE_LU", "1", 1);
  std::unique_ptr<Backend> dense = NewCpuBackend(1);
  unsetenv("ENSOLVE_CPU_DENSE_LU");
  for (int a = 0; a < kNumAlgorithms; ++a) {
    const AlgorithmInfo& info = AlgorithmTable()[a];
    if (info.stochastic) continue;  // SDE methods: for models with noise
    if (info.matrices == 0) continue;
    SCOPED_TRACE(info.name);
    SolveOptions o = Options(info.algorithm, 100, 1e-8, {1, 10, 100});
    o.abstol = 1e-12;
    if (!info.adaptive) {
      o.adaptive = false;
      o.dt = 1e-3;
    }
    BatchResult r[2];
    for (int k = 0; k < 2; ++k) {
      Backend& b = k == 0 ? *blocks : *dense;
      auto prepared = b.Prepare(*s, o);
      ASSERT_TRUE(prepared.ok()) << prepared.status();
      auto got = b.Solve(**prepared, o, BatchInputs{1});
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_EQ(got->retcodes[0], RetCode::kSuccess);
      r[k] = *std::move(got);
    }
    for (int q = 0; q < 12; ++q) {
      double scale = 0;
      for (int k = 0; k < 3; ++k) scale = std::max(scale, std::abs(r[1].state(0, k, q)));
      for (int k = 0; k < 3; ++k) {
        EXPECT_NEAR(r[0].state(0, k, q), r[1].state(0, k, q), 1e-6 * scale + 1e-300)
            << "value " << q << " save " << k;
      }
    }
  }
}

// state x = a: without u0 the sensitivities start at du0/dp (dx/da = 1), so x = a e^{-kt}
// gives dx/da = e^{-kt}, dx/dk = -t a e^{-kt}; with u0 given, dx/da = 0.
TEST(Sensitivities, InitialStatesThatFollowTheParameters) {
  auto base = Parse("param a = 2, k = 0.7\nstate x = a\noutput sq = x^2\nx' = -k*x\n");
  auto s = Sens(*base, {"a", "k"});
  ASSERT_NE(s, nullptr);
  const std::vector<double> p = {1.5, 0.9, 3.0, 0.4};
  auto r = Solve(*s, Options(Algorithm::kTsit5, 2, 1e-11, {1, 2}),
                 BatchInputs{2, nullptr, 1, p.data(), 2});
  ASSERT_TRUE(r.ok()) << r.status();
  for (int i = 0; i < 2; ++i) {
    const double a = p[2 * i], k = p[2 * i + 1];
    for (int j = 0; j < 2; ++j) {
      const double t = j + 1.0, e = std::exp(-k * t);
      EXPECT_NEAR(r->state(i, j, 0), a * e, 1e-9);
      EXPECT_NEAR(r->state(i, j, 1), e, 1e-9);
      EXPECT_NEAR(r->state(i, j, 2), -t * a * e, 1e-9);
    }
  }
  const double u0 = 5;
  r = Solve(*s, Options(Algorithm::kTsit5, 2, 1e-11, {2}), BatchInputs{1, &u0, 1, p.data(), 1});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state(0, 0, 1), 0.0);
  EXPECT_NEAR(r->state(0, 0, 2), -2 * u0 * std::exp(-0.9 * 2), 1e-9);
}

// Outputs: d(sq)/dp = 2 x dx/dp, and an output with its own parameter dependence.
TEST(Sensitivities, OutputSensitivities) {
  auto base =
      Parse("param a = 2, k = 0.7\nstate x = a\noutput sq = x^2\noutput kx = k*x\nx' = -k*x\n");
  auto s = Sens(*base, {"a", "k"});
  ASSERT_NE(s, nullptr);
  SolveOptions o = Options(Algorithm::kVern9, 2, 1e-11, {0.5, 2});
  o.outputs = SensitivitySelection({"sq", "kx", "x"}, {"a", "k"});
  auto r = Solve(*s, o, BatchInputs{1});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->num_states, 9);
  const double a = 2, k = 0.7;
  for (int j = 0; j < 2; ++j) {
    const double t = j == 0 ? 0.5 : 2, e = std::exp(-k * t), x = a * e;
    const double dxa = e, dxk = -t * a * e;
    const double want[9] = {x * x, k * x,       x,           2 * x * dxa, k * dxa,
                            dxa,   2 * x * dxk, x + k * dxk, dxk};
    double row[9], q[3], sens[6];
    for (int c = 0; c < 9; ++c) row[c] = r->state(0, j, c);
    for (int c = 0; c < 9; ++c) EXPECT_NEAR(row[c], want[c], 1e-9) << c;
    SplitSensitivityRow(row, 3, 2, q, sens);
    EXPECT_NEAR(sens[0 * 2 + 1], 2 * x * dxk, 1e-9);  // d(sq)/d(k)
    EXPECT_NEAR(sens[1 * 2 + 0], k * dxa, 1e-9);      // d(kx)/d(a)
  }
}

}  // namespace
}  // namespace ensolve
