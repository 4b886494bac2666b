// The pack interpreter computes exactly what the IR's reference evaluator computes, lane by lane,
// for every op, on ordinary and edge inputs (±0, ±inf, NaN).
#include "engine/cpu/tape_eval.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "engine/ir/eval.h"
#include "engine/ir/graph.h"
#include "engine/ir/tape.h"
#include "gtest/gtest.h"

namespace ensolve::cpu {
namespace {

using ir::Op;

// Equal, or both NaN. +0 and -0 count as equal: fmin/fmax may return either for (+0, -0).
bool SameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

TEST(TapeEval, EveryOpMatchesReferenceSemanticsInEveryLane) {
  constexpr int W = 8;
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Lane values for the three operands: ordinary, edge and special values.
  const double a[W] = {0.3, -1.7, 0.0, -0.0, inf, -inf, nan, 2.5};
  const double b[W] = {1.2, 0.0, -0.0, 3.0, 2.0, nan, 1.0, -4.0};
  const double c[W] = {-0.5, 7.0, 1.0, nan, -inf, 0.25, 9.0, 0.0};
  for (int k = 0; k <= static_cast<int>(Op::kIfElse); ++k) {
    const Op op = static_cast<Op>(k);
    const int arity = ir::Arity(op);
    if (op == Op::kConst || op == Op::kTime || op == Op::kState || op == Op::kParam) continue;
    ir::Graph g;
    const ir::NodeId x = g.State(0), y = g.State(1), z = g.State(2);
    const ir::NodeId root = arity == 1   ? g.Unary(op, x)
                            : arity == 2 ? g.Binary(op, x, y)
                                         : g.Ternary(op, x, y, z);
    const ir::Tape tape = ir::CompileTape(g, {root}, 3, 0);
    std::vector<Pack<double, W>> regs(tape.num_regs, Pack<double, W>(0.0));
    for (size_t i = 0; i < tape.consts.size(); ++i) regs[tape.const_reg(i)] = tape.consts[i];
    for (int l = 0; l < W; ++l) {
      regs[tape.state_reg(0)].v[l] = a[l];
      regs[tape.state_reg(1)].v[l] = b[l];
      regs[tape.state_reg(2)].v[l] = c[l];
    }
    RunTape(tape, regs.data());
    for (int l = 0; l < W; ++l) {
      // Through the graph evaluator: commutative ops may have had their operands reordered.
      const double u[3] = {a[l], b[l], c[l]};
      const double want = ir::Evaluate(g, root, 0.0, u, nullptr);
      const double got = regs[tape.roots[0]].v[l];
      EXPECT_TRUE(SameValue(got, want))
          << ir::OpName(op) << " lane " << l << ": got " << got << ", want " << want;
    }
  }
}

}  // namespace
}  // namespace ensolve::cpu
