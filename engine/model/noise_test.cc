// The SDE statements of the model language: noise lines (diagonal and through named Wiener
// processes), the noise matrix they build, and every error with its position.
#include <string>

#include "engine/ir/eval.h"
#include "engine/model/model.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

std::unique_ptr<Model> Parse(const std::string& src) {
  auto m = Model::Parse(src);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(*m) : nullptr;
}

// g_ij at (t, u, p).
double G(const Model& m, int i, int j, double t, const std::vector<double>& u,
         const std::vector<double>& p) {
  return ir::Evaluate(m.graph(), m.noise()[i * m.num_wiener() + j], t, u.data(), p.data());
}

TEST(Noise, OdeModelHasNone) {
  auto m = Parse("state x = 1\nx' = -x\n");
  EXPECT_FALSE(m->has_noise());
  EXPECT_EQ(m->num_wiener(), 0);
  EXPECT_TRUE(m->noise().empty());
}

TEST(Noise, DiagonalLinesGetAProcessEach) {
  auto m = Parse(
      "state x = 1, y = 2, z = 3\nparam s = 0.5\nlet q = s*y\nx' = -x\ny' = x\nz' = 0\n"
      "noise y = q + t\nnoise x = s*x^2\n");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->num_wiener(), 2);
  EXPECT_EQ(m->wiener_names(), (std::vector<std::string>{"(y)", "(x)"}));  // source order
  EXPECT_TRUE(m->noise_is_diagonal());
  const std::vector<double> u = {3, 2, 1}, p = {0.5};
  EXPECT_EQ(G(*m, 0, 0, 0.25, u, p), 0);
  EXPECT_EQ(G(*m, 0, 1, 0.25, u, p), 0.5 * 9);
  EXPECT_EQ(G(*m, 1, 0, 0.25, u, p), 0.5 * 2 + 0.25);
  EXPECT_EQ(G(*m, 1, 1, 0.25, u, p), 0);
  EXPECT_EQ(G(*m, 2, 0, 0.25, u, p), 0);
  EXPECT_EQ(G(*m, 2, 1, 0.25, u, p), 0);
}

TEST(Noise, MatrixCoefficientsAreTheDerivativesByTheIncrements) {
  auto m = Parse(
      "state x = 1, y = 0\nparam s1 = 2, s2 = 3\nwiener W1, W2\nx' = y\ny' = -x\n"
      "noise x = s1*x*dW1 + (s2 - x)*dW2 - dW1*y/2\n"
      "noise y = -(dW2*sin(t))\n");
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->num_wiener(), 2);
  EXPECT_EQ(m->wiener_names(), (std::vector<std::string>{"W1", "W2"}));
  EXPECT_FALSE(m->noise_is_diagonal());
  const std::vector<double> u = {1.5, -4}, p = {2, 3};
  const double t = 0.7;
  EXPECT_DOUBLE_EQ(G(*m, 0, 0, t, u, p), 2 * 1.5 + 4.0 / 2);
  EXPECT_DOUBLE_EQ(G(*m, 0, 1, t, u, p), 3 - 1.5);
  EXPECT_DOUBLE_EQ(G(*m, 1, 0, t, u, p), 0);
  EXPECT_DOUBLE_EQ(G(*m, 1, 1, t, u, p), -std::sin(t));
}

TEST(Noise, ScalarNoiseIsDiagonal) {
  // One process driving several states: every state has at most one process.
  auto m = Parse("wiener W\nstate x, y\nx' = 0\ny' = 0\nnoise x = dW\nnoise y = 2*x*dW\n");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->num_wiener(), 1);
  EXPECT_TRUE(m->noise_is_diagonal());
}

TEST(Noise, ProcessesAreCountedInTheLimits) {
  ModelLimits limits;
  limits.max_wieners = 2;
  auto bad = Model::Parse(
      "state x, y\nwiener A\nx' = 0\ny' = 0\nnoise x = dA\nnoise y = 1\n"
      "wiener B\n",
      limits);
  EXPECT_EQ(std::string(bad.status().message()),
            "line 7, column 8: too many Wiener processes (limit max_wieners = 2)");
  auto bad2 = Model::Parse(
      "state x, y, z\nx' = 0\ny' = 0\nz' = 0\nnoise x = 1\nnoise y = 1\n"
      "noise z = 1\n",
      limits);
  EXPECT_EQ(std::string(bad2.status().message()),
            "line 7, column 7: too many Wiener processes (limit max_wieners = 2)");
}

struct ErrorCase {
  const char* name;
  const char* source;
  const char* message;
};

class NoiseErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(NoiseErrors, NamePositionAndProblem) {
  auto m = Model::Parse(GetParam().source);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(m.status().message()), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Model, NoiseErrors,
    ::testing::Values(
        ErrorCase{"ProductOfIncrements", "state x\nwiener A, B\nx' = 0\nnoise x = dA*dB\n",
                  "line 4, column 11: the noise of 'x' must be linear in the Wiener increments (a "
                  "sum of coefficient * dW terms): 'dA' is multiplied by a Wiener increment"},
        ErrorCase{"Square", "state x\nwiener W\nx' = 0\nnoise x = x + 2*dW^2\n",
                  "line 4, column 17: the noise of 'x' must be linear in the Wiener increments (a "
                  "sum of coefficient * dW terms): 'dW' is in a power (^)"},
        ErrorCase{"InsideFunction", "state x\nwiener W\nx' = 0\nnoise x = sin(dW)\n",
                  "line 4, column 15: the noise of 'x' must be linear in the Wiener increments (a "
                  "sum of coefficient * dW terms): 'dW' is inside sin()"},
        ErrorCase{"Divisor", "state x\nwiener W\nx' = 0\nnoise x = x/dW\n",
                  "line 4, column 13: the noise of 'x' must be linear in the Wiener increments (a "
                  "sum of coefficient * dW terms): 'dW' is a divisor"},
        ErrorCase{"Condition", "state x\nwiener W\nx' = 0\nnoise x = ifelse(dW > 0, 1, 2)*dW\n",
                  "line 4, column 18: the noise of 'x' must be linear in the Wiener increments (a "
                  "sum of coefficient * dW terms): 'dW' is in a comparison or logical operator"},
        ErrorCase{"MixedTerms", "state x\nwiener W\nx' = 0\nnoise x = x*dW + 1\n",
                  "line 4, column 11: the noise of 'x' mixes terms with and without Wiener "
                  "increments: write every term as coefficient * dW (drift belongs in x' = ...)"},
        ErrorCase{"IncrementOutsideNoise", "state x\nwiener W\nx' = dW\n",
                  "line 3, column 6: 'dW' is a Wiener increment: it may appear only in a noise "
                  "line (noise x = ... * dW)"},
        ErrorCase{"IncrementInLet", "state x\nwiener W\nlet a = 2*dW\nx' = 0\nnoise x = a\n",
                  "line 3, column 11: 'dW' is a Wiener increment: it may appear only in a noise "
                  "line (noise x = ... * dW)"},
        ErrorCase{"ProcessName", "state x\nwiener W\nx' = 0\nnoise x = W\n",
                  "line 4, column 11: 'W' is a Wiener process: write its increment dW in a noise "
                  "line (noise x = ... * dW)"},
        ErrorCase{"UndeclaredIncrement", "state x\nx' = 0\nnoise x = x*dW1\n",
                  "line 3, column 13: undefined name 'dW1'"},
        ErrorCase{"NoiseForParam", "state x\nparam k\nx' = 0\nnoise k = 1\n",
                  "line 4, column 7: noise for 'k', which is a param: only states have noise"},
        ErrorCase{"NoiseForUndefined", "state x\nx' = 0\nnoise y = 1\n",
                  "line 3, column 7: noise for undefined name 'y'"},
        ErrorCase{"DuplicateNoise", "state x\nx' = 0\nnoise x = 1\nnoise x = 2\n",
                  "line 4, column 7: duplicate noise for 'x' (first at line 3, column 7)"},
        ErrorCase{"NoEquals", "state x\nx' = 0\nnoise x 1\n",
                  "line 3, column 9: unexpected number '1': expected '=' after noise x"},
        ErrorCase{"NoState", "state x\nx' = 0\nnoise = 1\n",
                  "line 3, column 7: unexpected '=': expected a state name after 'noise'"},
        ErrorCase{"IncrementClashes", "state x\nparam dW\nwiener W\nx' = 0\n",
                  "line 3, column 8: duplicate name 'dW' (the increment of Wiener process 'W'): "
                  "already declared as a param at line 2, column 7"},
        ErrorCase{"NameAfterIncrement", "state x\nwiener W\nparam dW\nx' = 0\n",
                  "line 3, column 7: duplicate name 'dW': already declared as a Wiener increment "
                  "at line 2, column 8"},
        ErrorCase{"KeywordAsName", "state noise\nx' = 0\n",
                  "line 1, column 7: 'noise' is a keyword and cannot be used as a name"},
        ErrorCase{"WienerInDefault", "wiener W\nstate x = W\nx' = 0\n",
                  "line 2, column 11: 'W' is a Wiener process: a default must be a constant "
                  "expression (numbers, functions, pi and earlier params)"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace ensolve
