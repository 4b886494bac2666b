// The model language accepts every construct and means what the documentation says.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/ir/eval.h"
#include "engine/model/model.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

std::unique_ptr<Model> ParseOrDie(const std::string& src) {
  absl::StatusOr<std::unique_ptr<Model>> m = Model::Parse(src);
  EXPECT_TRUE(m.ok()) << m.status() << "\n" << src;
  return m.ok() ? *std::move(m) : nullptr;
}

// Value of `expr` in a model with states x = 0.7, y = -1.3, param k = 2.5, at t = 0.25.
double Eval(const std::string& expr) {
  const std::string src = "state x, y\nparam k = 2.5\nx' = " + expr + "\ny' = 0\n";
  std::unique_ptr<Model> m = ParseOrDie(src);
  if (m == nullptr) return std::nan("");
  const double u[] = {0.7, -1.3};
  const double p[] = {2.5};
  return ir::Evaluate(m->graph(), m->rhs()[0], 0.25, u, p);
}

constexpr double x = 0.7, y = -1.3, k = 2.5, t = 0.25;

TEST(ParserTest, Numbers) {
  EXPECT_EQ(Eval("1"), 1);
  EXPECT_EQ(Eval("1.5"), 1.5);
  EXPECT_EQ(Eval(".5"), 0.5);
  EXPECT_EQ(Eval("2."), 2.0);
  EXPECT_EQ(Eval("1e-3"), 1e-3);
  EXPECT_EQ(Eval("2.5E+4"), 2.5e4);
  EXPECT_EQ(Eval("7e2"), 700);
  EXPECT_EQ(Eval("1.7976931348623157e308"), 1.7976931348623157e308);
}

TEST(ParserTest, ArithmeticAndPrecedence) {
  EXPECT_DOUBLE_EQ(Eval("x + y * k"), x + y * k);
  EXPECT_DOUBLE_EQ(Eval("(x + y) * k"), (x + y) * k);
  EXPECT_DOUBLE_EQ(Eval("x - y - k"), (x - y) - k);
  EXPECT_DOUBLE_EQ(Eval("x / y / k"), (x / y) / k);
  EXPECT_DOUBLE_EQ(Eval("x / y * k"), (x / y) * k);
  EXPECT_DOUBLE_EQ(Eval("k ^ 3 ^ 0.5"), std::pow(k, std::pow(3, 0.5)));  // right-assoc
  EXPECT_DOUBLE_EQ(Eval("-x^2"), -(x * x));
  EXPECT_DOUBLE_EQ(Eval("-k^2"), -(k * k));
  EXPECT_DOUBLE_EQ(Eval("2^-x"), std::pow(2, -x));
  EXPECT_DOUBLE_EQ(Eval("2^-x^2"), std::pow(2, -(x * x)));
  EXPECT_DOUBLE_EQ(Eval("(-k)^2"), k * k);
  EXPECT_DOUBLE_EQ(Eval("+x"), x);
  EXPECT_DOUBLE_EQ(Eval("- -x"), x);
  EXPECT_DOUBLE_EQ(Eval("-(-(y))"), y);
  EXPECT_DOUBLE_EQ(Eval("x*-y"), x * -y);
  EXPECT_DOUBLE_EQ(Eval("2*x^2*k"), 2 * x * x * k);
  EXPECT_DOUBLE_EQ(Eval("t"), t);
  EXPECT_DOUBLE_EQ(Eval("pi"), M_PI);
  EXPECT_DOUBLE_EQ(Eval("1 + 2 * 3 - 4 / 8"), 6.5);
}

TEST(ParserTest, ComparisonsAndLogic) {
  EXPECT_EQ(Eval("x < y"), 0);
  EXPECT_EQ(Eval("x > y"), 1);
  EXPECT_EQ(Eval("x <= 0.7"), 1);
  EXPECT_EQ(Eval("x >= 0.8"), 0);
  EXPECT_EQ(Eval("x == 0.7"), 1);
  EXPECT_EQ(Eval("x != 0.7"), 0);
  EXPECT_EQ(Eval("x > 0 && y > 0"), 0);
  EXPECT_EQ(Eval("x > 0 || y > 0"), 1);
  EXPECT_EQ(Eval("!(x > 0)"), 0);
  EXPECT_EQ(Eval("!y"), 0);
  EXPECT_EQ(Eval("!(x - 0.7)"), 1);
  // && binds tighter than ||; comparisons bind looser than arithmetic.
  EXPECT_EQ(Eval("x > 1 && y < 0 || k == 2.5"), 1);
  EXPECT_EQ(Eval("k == 2.5 || x > 1 && y > 0"), 1);
  EXPECT_EQ(Eval("x + 1 > k - 1"), 1);
  EXPECT_EQ(Eval("1 + (x < y)"), 1);
}

TEST(ParserTest, EveryFunction) {
  const double a = 0.3;
  EXPECT_DOUBLE_EQ(Eval("sin(x)"), std::sin(x));
  EXPECT_DOUBLE_EQ(Eval("cos(x)"), std::cos(x));
  EXPECT_DOUBLE_EQ(Eval("tan(x)"), std::tan(x));
  EXPECT_DOUBLE_EQ(Eval("asin(0.3)"), std::asin(a));
  EXPECT_DOUBLE_EQ(Eval("acos(x - 0.4)"), std::acos(x - 0.4));
  EXPECT_DOUBLE_EQ(Eval("atan(y)"), std::atan(y));
  EXPECT_DOUBLE_EQ(Eval("atan2(y, x)"), std::atan2(y, x));
  EXPECT_DOUBLE_EQ(Eval("sinh(y)"), std::sinh(y));
  EXPECT_DOUBLE_EQ(Eval("cosh(y)"), std::cosh(y));
  EXPECT_DOUBLE_EQ(Eval("tanh(y)"), std::tanh(y));
  EXPECT_DOUBLE_EQ(Eval("exp(y)"), std::exp(y));
  EXPECT_DOUBLE_EQ(Eval("log(x)"), std::log(x));
  EXPECT_DOUBLE_EQ(Eval("log10(k)"), std::log10(k));
  EXPECT_DOUBLE_EQ(Eval("sqrt(k)"), std::sqrt(k));
  EXPECT_DOUBLE_EQ(Eval("abs(y)"), 1.3);
  EXPECT_DOUBLE_EQ(Eval("min(x, y)"), y);
  EXPECT_DOUBLE_EQ(Eval("max(x, y)"), x);
  EXPECT_DOUBLE_EQ(Eval("pow(k, x)"), std::pow(k, x));
  EXPECT_DOUBLE_EQ(Eval("floor(y)"), -2);
  EXPECT_DOUBLE_EQ(Eval("ceil(y)"), -1);
  EXPECT_DOUBLE_EQ(Eval("sign(y)"), -1);
  EXPECT_DOUBLE_EQ(Eval("sign(x)"), 1);
  EXPECT_DOUBLE_EQ(Eval("sign(0*x)"), 0);
  EXPECT_DOUBLE_EQ(Eval("ifelse(x > y, k, -k)"), k);
  EXPECT_DOUBLE_EQ(Eval("ifelse(x < y, k, -k)"), -k);
  EXPECT_DOUBLE_EQ(Eval("ifelse(y, 1, 2)"), 1);  // any non-zero is true
  EXPECT_DOUBLE_EQ(Eval("sin(cos(x) * exp(-k * t)) + max(min(x, 1), 0)"),
                   std::sin(std::cos(x) * std::exp(-k * t)) + x);
}

TEST(ParserTest, CommentsBlankLinesLetsOutputsAnyEquationOrder) {
  const std::string src =
      "# a comment line\n"
      "\n"
      "   state a = 2 , b   # trailing comment\n"
      "param w = 3, v = w * 2 + sqrt(4)   # uses an earlier param's default\n"
      "\t\n"
      "let s = a + b\n"
      "let s2 = s * s\n"
      "b' = s2 - w\n"
      "a' = -v*t\n"
      "output total = s\n"
      "output twice = 2 * total   # outputs can be used like lets\n"
      "# no newline at the end:\n"
      "output c = 1";
  std::unique_ptr<Model> m = ParseOrDie(src);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->state_defaults(), (std::vector<double>{2, 0}));
  EXPECT_EQ(m->param_defaults(), (std::vector<double>{3, 8}));
  EXPECT_EQ(m->output_names(), (std::vector<std::string>{"total", "twice", "c"}));
  const double u[] = {1.5, 0.5};
  const double p[] = {3, 8};
  const std::vector<double> f = ir::Evaluate(m->graph(), m->rhs(), 2.0, u, p);
  EXPECT_DOUBLE_EQ(f[0], -16);
  EXPECT_DOUBLE_EQ(f[1], 4 - 3);
  const std::vector<double> o = ir::Evaluate(m->graph(), m->outputs(), 2.0, u, p);
  EXPECT_EQ(o, (std::vector<double>{2, 4, 1}));
}

TEST(ParserTest, LineContinuesInsideParentheses) {
  const std::string src =
      "state x = 1\n"
      "param k = (1 +\n"
      "           2)\n"
      "x' = max(x,\n"
      "         k) * (x\n"
      "   - 1)\n";
  std::unique_ptr<Model> m = ParseOrDie(src);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->param_defaults()[0], 3);
  const double u[] = {5};
  const double p[] = {3};
  EXPECT_DOUBLE_EQ(ir::Evaluate(m->graph(), m->rhs()[0], 0, u, p), 20);
}

TEST(ParserTest, LineContinuesAfterAnOperatorEqualsOrComma) {
  const std::string src =
      "state x = 1,\n"
      "      y =\n"
      "        2\n"
      "x' = x *\n"
      "     # a comment between the lines\n"
      "     y +\n"
      "\n"
      "     1\n"
      "y' = x > 0 &&\n"
      "     y > 0\n";
  std::unique_ptr<Model> m = ParseOrDie(src);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->state_defaults(), (std::vector<double>{1, 2}));
  const double u[] = {3, 4};
  EXPECT_EQ(ir::Evaluate(m->graph(), m->rhs(), 0, u, nullptr), (std::vector<double>{13, 1}));
}

TEST(ParserTest, PowerIsRightAssociative) {
  EXPECT_EQ(Eval("2^3^2"), 512);
  EXPECT_EQ(Eval("(2^3)^2"), 64);
  EXPECT_EQ(Eval("-2^2"), -4);
  EXPECT_EQ(Eval("!0 + 1"), 2);  // prefix binds tighter than +
}

TEST(ParserTest, WindowsLineEndingsAndTabs) {
  std::unique_ptr<Model> m = ParseOrDie("state\tx = 1\r\nx' = -x\r\n");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->num_states(), 1);
}

TEST(ParserTest, DefaultsAreOptionalAndConstantFolded) {
  std::unique_ptr<Model> m = ParseOrDie(
      "state u, v = -2^2, w = cos(pi)\nparam a, b = a + 1, c = ifelse(b > 0, 7, 8)\n"
      "u' = a\nv' = b\nw' = c\n");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->state_defaults(), (std::vector<double>{0, -4, -1}));
  EXPECT_EQ(m->param_defaults(), (std::vector<double>{0, 1, 7}));
  // Defaults are folded aside: they leave nothing behind in the model graph.
  for (int id = 0; id < m->graph().size(); ++id) {
    double v;
    if (m->graph().IsConstant(id, &v)) {
      EXPECT_NE(v, 7) << "default leaked into the graph";
    }
  }
}

TEST(ParserTest, NamesWithDigitsAndUnderscores) {
  std::unique_ptr<Model> m =
      ParseOrDie("state _x1, X_2\nparam k_on_2\n_x1' = k_on_2\nX_2' = _x1\n");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->state_names(), (std::vector<std::string>{"_x1", "X_2"}));
}

TEST(ParserTest, ModelsSharingSourceShareHash) {
  std::unique_ptr<Model> a = ParseOrDie("state x\nx' = 1\n");
  std::unique_ptr<Model> b = ParseOrDie("state x\nx' = 1\n");
  std::unique_ptr<Model> c = ParseOrDie("state x\nx' = 2\n");
  EXPECT_EQ(a->hash(), b->hash());
  EXPECT_NE(a->hash(), c->hash());
}

}  // namespace
}  // namespace ensolve
