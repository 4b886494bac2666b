#include "engine/ir/graph.h"

#include <cmath>
#include <limits>

#include "engine/ir/eval.h"
#include "gtest/gtest.h"

namespace ensolve::ir {
namespace {

TEST(GraphTest, LeavesAreInterned) {
  Graph g;
  EXPECT_EQ(g.Time(), g.Time());
  EXPECT_EQ(g.State(0), g.State(0));
  EXPECT_NE(g.State(0), g.State(1));
  EXPECT_NE(g.State(0), g.Param(0));
  EXPECT_EQ(g.Constant(2.5), g.Constant(2.5));
  EXPECT_NE(g.Constant(2.5), g.Constant(2.0));
  EXPECT_EQ(g.size(), 6);
}

TEST(GraphTest, CommonSubexpressionsAreOneNode) {
  Graph g;
  const NodeId x = g.State(0), y = g.State(1);
  const NodeId xy1 = g.Binary(Op::kMul, x, y);
  const int before = g.size();
  const NodeId xy2 = g.Binary(Op::kMul, x, y);
  EXPECT_EQ(xy1, xy2);
  EXPECT_EQ(g.size(), before);
  // Commutative operands are ordered, so y*x is x*y too.
  EXPECT_EQ(g.Binary(Op::kMul, y, x), xy1);
  EXPECT_EQ(g.Binary(Op::kAdd, y, x), g.Binary(Op::kAdd, x, y));
  EXPECT_EQ(g.Binary(Op::kMax, y, x), g.Binary(Op::kMax, x, y));
  // Non-commutative ones are not.
  EXPECT_NE(g.Binary(Op::kSub, y, x), g.Binary(Op::kSub, x, y));
  EXPECT_NE(g.Binary(Op::kLt, y, x), g.Binary(Op::kLt, x, y));
  // Deeper sharing: sin(x*y) + sin(x*y) reuses sin(x*y).
  const NodeId s1 = g.Unary(Op::kSin, xy1);
  const NodeId s2 = g.Unary(Op::kSin, g.Binary(Op::kMul, y, x));
  EXPECT_EQ(s1, s2);
}

TEST(GraphTest, ConstantFolding) {
  Graph g;
  const NodeId eight_thirds = g.Binary(Op::kDiv, g.Constant(8), g.Constant(3));
  double v;
  ASSERT_TRUE(g.IsConstant(eight_thirds, &v));
  EXPECT_EQ(v, 8.0 / 3);
  EXPECT_TRUE(g.IsConstantEqual(g.Unary(Op::kSin, g.Constant(0)), 0));
  EXPECT_TRUE(g.IsConstantEqual(g.Binary(Op::kPow, g.Constant(2), g.Constant(10)), 1024));
  EXPECT_TRUE(g.IsConstantEqual(g.Binary(Op::kLt, g.Constant(1), g.Constant(2)), 1));
  EXPECT_TRUE(
      g.IsConstantEqual(g.Ternary(Op::kIfElse, g.Constant(0), g.Constant(5), g.Constant(6)), 6));
  EXPECT_FALSE(g.IsConstant(g.State(0)));
  EXPECT_FALSE(g.IsConstant(-1));
}

TEST(GraphTest, Identities) {
  Graph g;
  const NodeId x = g.State(0), y = g.State(1);
  const NodeId zero = g.Constant(0), one = g.Constant(1), minus_one = g.Constant(-1);
  EXPECT_EQ(g.Binary(Op::kAdd, x, zero), x);
  EXPECT_EQ(g.Binary(Op::kAdd, zero, x), x);
  EXPECT_EQ(g.Binary(Op::kSub, x, zero), x);
  EXPECT_EQ(g.Binary(Op::kSub, zero, x), g.Unary(Op::kNeg, x));
  EXPECT_TRUE(g.IsConstantEqual(g.Binary(Op::kSub, x, x), 0));
  EXPECT_EQ(g.Binary(Op::kMul, x, one), x);
  EXPECT_EQ(g.Binary(Op::kMul, one, x), x);
  EXPECT_TRUE(g.IsConstantEqual(g.Binary(Op::kMul, x, zero), 0));
  EXPECT_TRUE(g.IsConstantEqual(g.Binary(Op::kMul, zero, x), 0));
  EXPECT_EQ(g.Binary(Op::kMul, x, minus_one), g.Unary(Op::kNeg, x));
  EXPECT_EQ(g.Binary(Op::kDiv, x, one), x);
  EXPECT_TRUE(g.IsConstantEqual(g.Binary(Op::kDiv, zero, x), 0));
  EXPECT_EQ(g.Binary(Op::kPow, x, one), x);
  EXPECT_TRUE(g.IsConstantEqual(g.Binary(Op::kPow, x, zero), 1));
  EXPECT_TRUE(g.IsConstantEqual(g.Binary(Op::kPow, one, x), 1));
  EXPECT_EQ(g.Unary(Op::kNeg, g.Unary(Op::kNeg, x)), x);
  EXPECT_EQ(g.Binary(Op::kAdd, x, g.Unary(Op::kNeg, y)), g.Binary(Op::kSub, x, y));
  EXPECT_EQ(g.Binary(Op::kAdd, g.Unary(Op::kNeg, y), x), g.Binary(Op::kSub, x, y));
  EXPECT_EQ(g.Binary(Op::kSub, x, g.Unary(Op::kNeg, y)), g.Binary(Op::kAdd, x, y));
  EXPECT_EQ(g.Unary(Op::kNeg, g.Binary(Op::kSub, x, y)), g.Binary(Op::kSub, y, x));
  EXPECT_EQ(g.Binary(Op::kMul, g.Unary(Op::kNeg, x), g.Unary(Op::kNeg, y)),
            g.Binary(Op::kMul, x, y));
  EXPECT_EQ(g.Unary(Op::kAbs, g.Unary(Op::kNeg, x)), g.Unary(Op::kAbs, x));
  EXPECT_EQ(g.Unary(Op::kAbs, g.Unary(Op::kAbs, x)), g.Unary(Op::kAbs, x));
  EXPECT_EQ(g.Binary(Op::kMin, x, x), x);
  EXPECT_EQ(g.Binary(Op::kMax, x, x), x);
  EXPECT_EQ(g.Ternary(Op::kIfElse, g.Binary(Op::kLt, x, y), y, y), y);
  EXPECT_EQ(g.Ternary(Op::kIfElse, one, x, y), x);
  EXPECT_TRUE(g.IsConstantEqual(g.Binary(Op::kAnd, x, zero), 0));
  EXPECT_TRUE(g.IsConstantEqual(g.Binary(Op::kOr, one, x), 1));
}

TEST(GraphTest, OperandsAlwaysPrecedeUsers) {
  Graph g;
  const NodeId x = g.State(0), p = g.Param(0), t = g.Time();
  NodeId acc = x;
  for (int i = 0; i < 50; ++i) {
    acc = g.Binary(i % 2 ? Op::kMul : Op::kAdd, acc, g.Unary(Op::kSin, g.Constant(i + 0.5)));
    acc = g.Ternary(Op::kIfElse, g.Binary(Op::kLt, t, p), acc, g.Unary(Op::kCos, acc));
  }
  for (NodeId id = 0; id < g.size(); ++id) {
    const Node& n = g.node(id);
    const int arity = Arity(n.op);
    EXPECT_TRUE(arity < 1 || n.a < id) << id;
    EXPECT_TRUE(arity < 2 || n.b < id) << id;
    EXPECT_TRUE(arity < 3 || n.c < id) << id;
  }
}

TEST(GraphTest, ArityAndNames) {
  EXPECT_EQ(Arity(Op::kConst), 0);
  EXPECT_EQ(Arity(Op::kState), 0);
  EXPECT_EQ(Arity(Op::kSin), 1);
  EXPECT_EQ(Arity(Op::kNot), 1);
  EXPECT_EQ(Arity(Op::kAtan2), 2);
  EXPECT_EQ(Arity(Op::kOr), 2);
  EXPECT_EQ(Arity(Op::kIfElse), 3);
  EXPECT_STREQ(OpName(Op::kAdd), "add");
  EXPECT_STREQ(OpName(Op::kLog10), "log10");
  EXPECT_STREQ(OpName(Op::kIfElse), "ifelse");
  for (int op = 0; op <= static_cast<int>(Op::kIfElse); ++op) {
    EXPECT_STRNE(OpName(static_cast<Op>(op)), "?") << op;
  }
}

TEST(GraphTest, EvalOpSemantics) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(EvalOp(Op::kSign, -3, 0, 0), -1);
  EXPECT_EQ(EvalOp(Op::kSign, 0, 0, 0), 0);
  EXPECT_EQ(EvalOp(Op::kSign, 2, 0, 0), 1);
  EXPECT_TRUE(std::isnan(EvalOp(Op::kSign, nan, 0, 0)));
  EXPECT_EQ(EvalOp(Op::kNot, 0, 0, 0), 1);
  EXPECT_EQ(EvalOp(Op::kNot, -2, 0, 0), 0);
  EXPECT_EQ(EvalOp(Op::kAnd, 2, -1, 0), 1);
  EXPECT_EQ(EvalOp(Op::kAnd, 2, 0, 0), 0);
  EXPECT_EQ(EvalOp(Op::kOr, 0, 0, 0), 0);
  EXPECT_EQ(EvalOp(Op::kOr, 0, 3, 0), 1);
  EXPECT_EQ(EvalOp(Op::kIfElse, 0.5, 1, 2), 1);
  EXPECT_EQ(EvalOp(Op::kIfElse, 0, 1, 2), 2);
  EXPECT_EQ(EvalOp(Op::kAtan2, 1, 0, 0), std::atan2(1, 0));
  EXPECT_EQ(EvalOp(Op::kMin, 1, nan, 0), 1);  // fmin semantics
  EXPECT_EQ(EvalOp(Op::kMax, nan, 1, 0), 1);
  EXPECT_EQ(EvalOp(Op::kLe, 1, 1, 0), 1);
  EXPECT_EQ(EvalOp(Op::kNe, 1, 1, 0), 0);
  EXPECT_EQ(EvalOp(Op::kLog10, 1000, 0, 0), 3);
  EXPECT_EQ(EvalOp(Op::kFloor, -1.5, 0, 0), -2);
  EXPECT_EQ(EvalOp(Op::kCeil, -1.5, 0, 0), -1);
}

TEST(GraphTest, EvaluatorFollowsTheGraph) {
  Graph g;
  const NodeId x = g.State(0), k = g.Param(1), t = g.Time();
  const NodeId e = g.Binary(Op::kAdd, g.Binary(Op::kMul, k, x), g.Unary(Op::kExp, t));
  const double u[] = {2};
  const double p[] = {0, 3};
  EXPECT_DOUBLE_EQ(Evaluate(g, e, 0.5, u, p), 3 * 2 + std::exp(0.5));
  EXPECT_EQ(Evaluate(g, {x, k, t}, 0.5, u, p), (std::vector<double>{2, 3, 0.5}));
}

}  // namespace
}  // namespace ensolve::ir
