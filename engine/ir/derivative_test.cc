#include "engine/ir/derivative.h"

#include <cmath>
#include <vector>

#include "engine/ir/eval.h"
#include "gtest/gtest.h"

namespace ensolve::ir {
namespace {

// d/dx of op(g(x)) (and of op(g(x), h(x)), ...) against central differences, for every op.
TEST(DerivativeTest, EveryOpMatchesFiniteDifferences) {
  for (int raw = static_cast<int>(Op::kNeg); raw <= static_cast<int>(Op::kIfElse); ++raw) {
    const Op op = static_cast<Op>(raw);
    Graph g;
    const NodeId x = g.State(0);
    // Inner functions with non-trivial derivatives, kept inside every op's domain at x0.
    const NodeId inner_a = g.Binary(Op::kMul, g.Constant(0.3), g.Unary(Op::kSin, x));
    const NodeId inner_b = g.Binary(Op::kAdd, g.Constant(1.7), g.Binary(Op::kMul, x, x));
    const NodeId inner_c = g.Unary(Op::kExp, g.Unary(Op::kNeg, x));
    NodeId f;
    switch (Arity(op)) {
      case 1:
        f = g.Unary(op, op == Op::kLog || op == Op::kLog10 || op == Op::kSqrt ? inner_b : inner_a);
        break;
      case 2:
        f = g.Binary(op, inner_a, inner_b);
        break;
      default:
        f = g.Ternary(op, g.Binary(Op::kLt, x, g.Constant(0.5)), inner_b, inner_c);
        break;
    }
    const NodeId df = Differentiate(g, f, Var::State(0));
    for (double x0 : {0.15, 0.8, 1.3}) {
      const double h = 1e-6;
      const double u[] = {x0}, up[] = {x0 + h}, um[] = {x0 - h};
      const double exact = Evaluate(g, df, 0, u, nullptr);
      const double fd = (Evaluate(g, f, 0, up, nullptr) - Evaluate(g, f, 0, um, nullptr)) / (2 * h);
      EXPECT_NEAR(exact, fd, 1e-7 * std::max(1.0, std::fabs(fd))) << OpName(op) << " at " << x0;
    }
  }
}

TEST(DerivativeTest, VariablesAndSimplification) {
  Graph g;
  const NodeId x = g.State(0), y = g.State(1), p = g.Param(0), t = g.Time();
  const NodeId xy = g.Binary(Op::kMul, x, y);
  EXPECT_EQ(Differentiate(g, xy, Var::State(0)), y);  // 1*y + x*0 simplifies to y
  EXPECT_EQ(Differentiate(g, xy, Var::State(1)), x);
  EXPECT_TRUE(g.IsConstantEqual(Differentiate(g, xy, Var::Time()), 0));
  EXPECT_TRUE(g.IsConstantEqual(Differentiate(g, t, Var::Time()), 1));
  EXPECT_TRUE(g.IsConstantEqual(Differentiate(g, p, Var::Param(0)), 1));
  EXPECT_TRUE(g.IsConstantEqual(Differentiate(g, p, Var::State(0)), 0));
  EXPECT_EQ(Differentiate(g, g.Binary(Op::kMul, p, t), Var::Time()), p);
  // x^3 -> 3 * x^2, sharing nothing new beyond those two nodes.
  const NodeId cube = g.Binary(Op::kPow, x, g.Constant(3));
  const NodeId d = Differentiate(g, cube, Var::State(0));
  EXPECT_EQ(d, g.Binary(Op::kMul, g.Constant(3), g.Binary(Op::kPow, x, g.Constant(2))));
  // d/dx sin(x) is cos(x): the existing node when there is one.
  const NodeId cosx = g.Unary(Op::kCos, x);
  EXPECT_EQ(Differentiate(g, g.Unary(Op::kSin, x), Var::State(0)), cosx);
}

TEST(DerivativeTest, MinMaxFollowTheSelectedArgumentEvenWithNaN) {
  Graph g;
  const NodeId x = g.State(0);
  const NodeId nan_at_1 = g.Unary(Op::kSqrt, g.Binary(Op::kSub, x, g.Constant(5)));
  const NodeId two_x = g.Binary(Op::kMul, g.Constant(2), x);
  const NodeId x_sq = g.Binary(Op::kMul, x, x);
  const double u[] = {1.0};
  // fmin/fmax ignore a NaN argument; so must their derivatives.
  for (Op op : {Op::kMin, Op::kMax}) {
    EXPECT_EQ(
        Evaluate(g, Differentiate(g, g.Binary(op, nan_at_1, two_x), Var::State(0)), 0, u, nullptr),
        2)
        << OpName(op);
    EXPECT_EQ(
        Evaluate(g, Differentiate(g, g.Binary(op, x_sq, nan_at_1), Var::State(0)), 0, u, nullptr),
        2)
        << OpName(op);
  }
  const double u3[] = {3.0};  // min(x^2, 2x) = 2x = 6, max = x^2 = 9
  EXPECT_EQ(
      Evaluate(g, Differentiate(g, g.Binary(Op::kMin, x_sq, two_x), Var::State(0)), 0, u3, nullptr),
      2);
  EXPECT_EQ(
      Evaluate(g, Differentiate(g, g.Binary(Op::kMax, x_sq, two_x), Var::State(0)), 0, u3, nullptr),
      6);
}

TEST(DerivativeTest, MemoizationSharesWorkAcrossRows) {
  Graph g;
  const NodeId x = g.State(0);
  NodeId shared = x;
  for (int i = 0; i < 20; ++i) shared = g.Unary(Op::kSin, g.Binary(Op::kAdd, shared, g.Param(i)));
  const NodeId r1 = g.Binary(Op::kMul, shared, g.Constant(2));
  const NodeId r2 = g.Unary(Op::kExp, shared);
  Differentiator d(g, Var::State(0));
  d.Derive(r1);
  const int after_first = g.size();
  d.Derive(r2);
  // The second row only adds exp(shared)*d(shared): two nodes, not a re-derivation.
  EXPECT_LE(g.size() - after_first, 2);
}

TEST(DerivativeTest, DeepGraphsNeedNoRecursion) {
  Graph g;
  const NodeId x = g.State(0);
  NodeId acc = x;
  for (int i = 0; i < 300000; ++i)
    acc = g.Binary(Op::kAdd, g.Binary(Op::kMul, acc, x), g.Constant(1));
  const NodeId d = Differentiate(g, acc, Var::State(0));
  EXPECT_NE(d, kNoNode);
  const double u[] = {0.0};
  // f(x) = ((x*x + 1)*x + 1)*x + ...; at x = 0 only the last step contributes: f'(0) = 1.
  EXPECT_EQ(Evaluate(g, d, 0, u, nullptr), 1.0);
}

TEST(DerivativeTest, NodeBudget) {
  Graph g;
  const NodeId x = g.State(0);
  NodeId acc = x;
  for (int i = 0; i < 100; ++i) acc = g.Unary(Op::kSin, g.Binary(Op::kMul, acc, acc));
  Differentiator d(g, Var::State(0), g.size() + 10);
  EXPECT_EQ(d.Derive(acc), kNoNode);
  EXPECT_TRUE(d.exceeded());
}

}  // namespace
}  // namespace ensolve::ir
