// The Rosenbrock tableaus (rodas4.h, rodas5.h, rodas5p.h) and the generic step
// (rosenbrock.h): coefficients re-derived from their classical form where the source gives
// it, the stiffly accurate structure, the interpolants' orders, the singular-W return code
// and the facts the step relies on.
#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/algorithms/rodas4.h"
#include "engine/algorithms/rodas5.h"
#include "engine/algorithms/rodas5p.h"
#include "engine/algorithms/scalar_context.h"
#include "engine/testing/oscillator.h"
#include "gtest/gtest.h"

namespace ensolve::alg {
namespace {

using Model = ScalarContext<double>::Model;

// Di Marzo's RODAS5 in classical form (α_ij, β_ij = α_ij + γ_ij), as listed beside the
// transformed coefficients in OrdinaryDiffEq.jl's rosenbrock_tableaus.jl (the comment block
// after Rodas5PTableau).
constexpr double kRodas5Alpha[8][8] = {
    {},
    {0.38},
    {0.1899188971074152, 0.1979321027247381},
    {0.1110729281178426, 0.5456026683145674, -0.1727037026450261},
    {0.2329444418850307, 0.025099380960713898, 0.1443314046300300, 0.054672473406183418},
    {-0.036201017843430883, 4.208448872731939, -7.549674427720996, -0.2076823626400282,
     4.585108935472517},
    {7.585261698003052, -15.57426208319938, -8.814406895608121, 1.534698996826085,
     16.07870828397837, 0.19},
    {0.4646018839086969, 0, -1.720907508837576, 0.2910480220957973, 1.821778861539924,
     -0.046521258706842056, 0.19}};
constexpr double kRodas5Beta[8][8] = {
    {0.19},
    {0.0076920774666285364, 0.19},
    {-0.058129718999580252, -0.063251113355141360, 0.19},
    {0.7075715596134048, -0.5980299539145789, 0.5294131505610923, 0.19},
    {-0.034975026573934865, -0.1928476085817357, 0.089839586125126941, 0.027613185520411822, 0.19},
    {7.585261698003052, -15.57426208319938, -8.814406895608121, 1.534698996826085,
     16.07870828397837, 0.19},
    {0.4646018839086969, 0, -1.720907508837576, 0.2910480220957973, 1.821778861539924,
     -0.046521258706842056, 0.19},
    {0.4646018839086969, 0, -1.720907508837576, 0.2910480220957973, 1.821778861539924,
     -0.026744882930135193, -0.019776375776706864, 0.19}};

// The transformation of Hairer & Wanner II, IV.7: with Γ = β - α (lower triangular, diagonal γ),
// a = α Γ⁻¹, C = diag(1/γ) - Γ⁻¹, c_i = Σ_j α_ij, d_i = Σ_j Γ_ij.
TEST(Rodas5, TransformedCoefficientsFollowFromTheClassicalOnes) {
  constexpr int s = 8;
  double g[s][s] = {}, gi[s][s] = {};
  for (int i = 0; i < s; ++i) {
    for (int j = 0; j <= i; ++j) g[i][j] = kRodas5Beta[i][j] - kRodas5Alpha[i][j];
  }
  // Γ⁻¹ by forward substitution, column by column.
  for (int col = 0; col < s; ++col) {
    for (int i = 0; i < s; ++i) {
      double v = i == col ? 1.0 : 0.0;
      for (int j = 0; j < i; ++j) v -= g[i][j] * gi[j][col];
      gi[i][col] = v / g[i][i];
    }
  }
  constexpr RosenbrockTableau<8, 3> t = Rodas5Coefficients::Tableau();
  auto near = [](double got, double want) {
    return std::abs(got - want) <= 1e-11 * (1 + std::abs(want));
  };
  EXPECT_EQ(t.gamma, g[0][0]);
  for (int i = 0; i < s; ++i) {
    double c = 0, d = 0;
    for (int j = 0; j < s; ++j) {
      c += kRodas5Alpha[i][j];
      d += g[i][j];
    }
    EXPECT_TRUE(near(t.c[i], c)) << "c" << i << ": " << t.c[i] << " vs " << c;
    EXPECT_TRUE(near(t.d[i], d)) << "d" << i << ": " << t.d[i] << " vs " << d;
    for (int j = 0; j < i; ++j) {
      double a = 0;
      for (int k = 0; k < s; ++k) a += kRodas5Alpha[i][k] * gi[k][j];
      const double cc = -gi[i][j];  // off the diagonal, diag(1/γ) contributes nothing
      EXPECT_TRUE(near(t.a[i][j], a)) << "a" << i << j << ": " << t.a[i][j] << " vs " << a;
      EXPECT_TRUE(near(t.C[i][j], cc)) << "C" << i << j << ": " << t.C[i][j] << " vs " << cc;
    }
  }
}

template <class M>
void ExpectConsistentTableau(const char* name) {
  constexpr auto t = M::Tableau();
  constexpr int s = decltype(t)::kStages;
  SCOPED_TRACE(name);
  EXPECT_TRUE(IsStifflyAccurate(t));
  EXPECT_EQ(t.c[0], 0.0);
  EXPECT_EQ(t.d[0], t.gamma);  // γ_1 = γ
  // The last stages only add increments at c = 1, where T is not needed again.
  EXPECT_EQ(t.d[s - 1], 0.0);
  EXPECT_EQ(t.d[s - 2], 0.0);
  for (int i = 0; i < s; ++i) {
    EXPECT_GE(t.c[i], 0.0);
    EXPECT_LE(t.c[i], 1.0);
    for (int j = i; j < s; ++j) {
      EXPECT_EQ(t.a[i][j], 0.0) << i << " " << j;
      EXPECT_EQ(t.C[i][j], 0.0) << i << " " << j;
    }
  }
}

TEST(Tableaus, StifflyAccurateAndLowerTriangular) {
  ExpectConsistentTableau<Rodas4Coefficients>("rodas4");
  ExpectConsistentTableau<Rodas5Coefficients>("rodas5");
  ExpectConsistentTableau<Rodas5PCoefficients>("rodas5p");
  EXPECT_EQ(Rodas4::kStages, 6);
  EXPECT_EQ(Rodas5::kStages, 8);
  EXPECT_EQ(Rodas5P::kStages, 8);
}

using testing::Oscillator;

// The interpolant alone: one step from the exact state, the largest error over θ in (0, 1)
// against the exact solution, shrinking as h^(dense order + 1).
template <class Alg>
double InterpolantError(double h) {
  std::vector<double> saveat;
  for (int i = 1; i < 10; ++i) saveat.push_back(0.3 + h * i / 10.0);
  Controls<double> o{0.3, 0.3 + h, h, 1e-6, 1e-3, 0, 10, false};
  const std::vector<double> u0 = {std::exp(std::sin(0.3)), std::cos(0.3), std::sin(0.3)};
  auto r = SolveScalar<Alg, double>(3, Oscillator(), u0, saveat, o);
  EXPECT_EQ(r.retcode, kRetSuccess);
  double e = 0;
  for (size_t k = 0; k < saveat.size(); ++k) {
    const double t = saveat[k];
    e = std::max({e, std::abs(r.saved[k][0] - std::exp(std::sin(t))),
                  std::abs(r.saved[k][1] - std::cos(t)), std::abs(r.saved[k][2] - std::sin(t))});
  }
  return e;
}

template <class Alg>
void ExpectInterpolantOrder(const char* name) {
  const double e1 = InterpolantError<Alg>(0.2), e2 = InterpolantError<Alg>(0.1);
  const double e3 = InterpolantError<Alg>(0.05);
  const double p = 0.5 * std::log2(e1 / e3);
  std::printf("%-8s dense output: one-step errors %.2e %.2e %.2e, local order %.2f (h^%d)\n", name,
              e1, e2, e3, p, Alg::kDenseOrder + 1);
  EXPECT_GT(p, Alg::kDenseOrder + 1 - 0.3) << name;
}

TEST(DenseOutput, LocalOrderOfTheInterpolants) {
  ExpectInterpolantOrder<Rodas4>("rodas4");
  ExpectInterpolantOrder<Rodas5>("rodas5");
  ExpectInterpolantOrder<Rodas5P>("rodas5p");
}

// u' = λ u with h γ λ = 1 makes W = I/(hγ) - J exactly zero: the step reports a singular
// matrix (a return code at a fixed step; a rejection and a smaller step when adaptive),
// never a NaN state.
template <class Alg, class Coefficients>
void ExpectSingularIsAReturnCode(const char* name) {
  const double h = 0.125, lambda = 1.0 / (h * Coefficients::Tableau().gamma);
  Model m;
  m.rhs = [lambda](double, const double* u, double* du) { du[0] = lambda * u[0]; };
  m.jacobian = [lambda](double, const double*, double* J) { J[0] = lambda; };
  m.time_derivative = [](double, const double*, double* dT) { dT[0] = 0; };
  auto fixed = SolveScalar<Alg, double>(1, m, {1.0}, {},
                                        Controls<double>{0, 1, h, 1e-6, 1e-3, 0, 100, false});
  EXPECT_EQ(fixed.retcode, kRetSingular) << name;
  EXPECT_EQ(fixed.t_final, 0.0) << name;
  EXPECT_EQ(fixed.saved[0][0], 1.0) << name;  // the last good state, not NaN
  // The first step (dt = h) meets the singular matrix, and is retried smaller.
  auto adaptive = SolveScalar<Alg, double>(
      1, m, {1.0}, {}, Controls<double>{0, 0.5, h, 1e-6, 1e-6, 0, 100000, true});
  EXPECT_EQ(adaptive.retcode, kRetSuccess) << name;
  EXPECT_GE(adaptive.rejected, 1) << name;
  const double exact = std::exp(lambda * 0.5);
  EXPECT_NEAR(adaptive.saved[0][0], exact, 1e-4 * exact) << name;
}

TEST(ReturnCodes, SingularIterationMatrix) {
  ExpectSingularIsAReturnCode<Rodas4, Rodas4Coefficients>("rodas4");
  ExpectSingularIsAReturnCode<Rodas5, Rodas5Coefficients>("rodas5");
  ExpectSingularIsAReturnCode<Rodas5P, Rodas5PCoefficients>("rodas5p");
}

}  // namespace
}  // namespace ensolve::alg
