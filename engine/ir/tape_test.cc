#include "engine/ir/tape.h"

#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "engine/ir/derivative.h"
#include "engine/ir/eval.h"
#include "engine/model/model.h"
#include "gtest/gtest.h"

namespace ensolve::ir {
namespace {

// A model with many temporaries, lets, outputs, every kind of op.
constexpr char kModel[] = R"(
state a = 1, b = 2, c = 3, d = 4
param k1 = 0.5, k2 = 1.5, k3 = -0.25
let s = a*b + c*d - k1*t
let q = sin(s)*cos(s) + exp(-abs(s)/10)
let r = sqrt(a*a + b*b + 1) / (1 + q^2)
let w = ifelse(a > b && !(c < 0) || d == 4, max(a, c), min(b, d))
a' = k1*q - r*b + w
b' = atan2(a, c + 5) * tanh(k2*b) + pow(abs(d) + 1, k3) - log(1 + a^2)
c' = floor(a) + ceil(b) + sign(c) * log10(2 + d^2) + (a != b) + (c >= d)
d' = asin(0.5*tanh(a)) + acos(0.5*tanh(b)) + atan(c) + sinh(d/5) + cosh(a/5) + tan(0.1*b)
output energy = a^2 + b^2 + c^2 + d^2
output mix = s*q - r
)";

std::unique_ptr<Model> Parse() {
  absl::StatusOr<std::unique_ptr<Model>> m = Model::Parse(kModel);
  EXPECT_TRUE(m.ok()) << m.status();
  return *std::move(m);
}

TEST(TapeTest, MatchesTheGraphEvaluatorOnRandomInputs) {
  std::unique_ptr<Model> m = Parse();
  const Graph& g = m->graph();
  const int ns = m->num_states(), np = m->num_params();
  std::vector<std::vector<NodeId>> root_sets = {m->rhs(), m->outputs(), m->jacobian(),
                                                m->time_derivative()};
  std::vector<NodeId> all;
  for (const auto& s : root_sets) all.insert(all.end(), s.begin(), s.end());
  root_sets.push_back(all);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(-3, 3);
  for (const std::vector<NodeId>& roots : root_sets) {
    const Tape tape = CompileTape(g, roots, ns, np);
    ASSERT_EQ(tape.roots.size(), roots.size());
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<double> u(ns), p(np);
      for (double& v : u) v = dist(rng);
      for (double& v : p) v = dist(rng);
      const double t = dist(rng);
      const std::vector<double> want = Evaluate(g, roots, t, u.data(), p.data());
      const std::vector<double> got = RunTape(tape, t, u.data(), p.data());
      ASSERT_EQ(got.size(), want.size());
      for (size_t k = 0; k < want.size(); ++k) {
        if (std::isnan(want[k])) {
          EXPECT_TRUE(std::isnan(got[k])) << k;
        } else {
          EXPECT_EQ(got[k], want[k]) << k;  // same ops in the same order: bit-identical
        }
      }
    }
  }
}

TEST(TapeTest, LayoutAndWellFormedness) {
  std::unique_ptr<Model> m = Parse();
  std::vector<NodeId> roots = m->rhs();
  roots.insert(roots.end(), m->jacobian().begin(), m->jacobian().end());
  const Tape tape = CompileTape(m->graph(), roots, m->num_states(), m->num_params());
  EXPECT_EQ(tape.num_states, 4);
  EXPECT_EQ(tape.num_params, 3);
  EXPECT_EQ(tape.time_reg(), 0);
  EXPECT_EQ(tape.state_reg(0), 1);
  EXPECT_EQ(tape.param_reg(0), 5);
  EXPECT_EQ(tape.const_reg(0), 8);
  const int first_temp = tape.const_reg(static_cast<int>(tape.consts.size()));
  std::set<double> consts(tape.consts.begin(), tape.consts.end());
  EXPECT_EQ(consts.size(), tape.consts.size()) << "constants are deduplicated";
  std::vector<bool> written(tape.num_regs, false);
  for (int r = 0; r < first_temp; ++r) written[r] = true;
  for (const Instr& in : tape.code) {
    const int arity = Arity(in.op);
    ASSERT_GE(arity, 1);
    const uint16_t ops[3] = {in.a, in.b, in.c};
    for (int k = 0; k < arity; ++k) {
      ASSERT_LT(ops[k], tape.num_regs);
      EXPECT_TRUE(written[ops[k]]) << "read before write";
      EXPECT_NE(ops[k], in.dst) << "dst aliases an operand";
    }
    for (int k = arity; k < 3; ++k) EXPECT_EQ(ops[k], 0);
    EXPECT_GE(in.dst, first_temp) << "only temporaries are written";
    ASSERT_LT(in.dst, tape.num_regs);
    written[in.dst] = true;
  }
}

TEST(TapeTest, RegistersAreReusedAfterTheirLastUse) {
  // A long chain: each temporary dies as soon as the next one is computed.
  Graph g;
  NodeId acc = g.State(0);
  for (int i = 0; i < 1000; ++i) {
    acc = g.Unary(Op::kSin, g.Binary(Op::kMul, acc, g.Param(0)));
  }
  const Tape tape = CompileTape(g, {acc}, 1, 1);
  EXPECT_EQ(tape.code.size(), 2000u);
  EXPECT_LE(tape.num_regs - tape.const_reg(0), 2);
  const double u[] = {0.3}, p[] = {1.1};
  EXPECT_EQ(RunTape(tape, 0, u, p)[0], Evaluate(g, acc, 0, u, p));

  // The Lorenz-like model with many temporaries needs fewer registers than it has nodes.
  std::unique_ptr<Model> m = Parse();
  std::vector<NodeId> roots = m->rhs();
  roots.insert(roots.end(), m->jacobian().begin(), m->jacobian().end());
  const Tape big = CompileTape(m->graph(), roots, m->num_states(), m->num_params());
  EXPECT_LT(big.num_regs, m->graph().size());
  EXPECT_LT(big.num_regs - big.const_reg(static_cast<int>(big.consts.size())),
            static_cast<int>(big.code.size()) / 2);
}

TEST(TapeTest, OnlyReachableNodesAreEmitted) {
  Graph g;
  const NodeId x = g.State(0);
  const NodeId used = g.Unary(Op::kExp, x);
  g.Unary(Op::kSin, g.Binary(Op::kMul, x, g.Constant(42)));  // dead
  const Tape tape = CompileTape(g, {used}, 1, 0);
  ASSERT_EQ(tape.code.size(), 1u);
  EXPECT_EQ(tape.code[0].op, Op::kExp);
  EXPECT_TRUE(tape.consts.empty());
}

TEST(TapeTest, LeafAndRepeatedRoots) {
  Graph g;
  const NodeId x = g.State(1), p = g.Param(0), t = g.Time(), c = g.Constant(2.5);
  const NodeId e = g.Binary(Op::kMul, x, x);
  const Tape tape = CompileTape(g, {x, p, t, c, e, e}, 2, 1);
  EXPECT_EQ(tape.roots[0], tape.state_reg(1));
  EXPECT_EQ(tape.roots[1], tape.param_reg(0));
  EXPECT_EQ(tape.roots[2], tape.time_reg());
  EXPECT_EQ(tape.roots[3], tape.const_reg(0));
  EXPECT_EQ(tape.roots[4], tape.roots[5]);
  const double u[] = {0, 3}, pp[] = {7};
  EXPECT_EQ(RunTape(tape, 0.5, u, pp), (std::vector<double>{3, 7, 0.5, 2.5, 9, 9}));
}

TEST(TapeTest, RootsStayLiveToTheEnd) {
  // r1 is a root that is also an operand of later nodes: its register must not be reused.
  Graph g;
  const NodeId x = g.State(0);
  const NodeId r1 = g.Unary(Op::kSin, x);
  NodeId acc = g.Unary(Op::kCos, r1);
  for (int i = 0; i < 10; ++i) acc = g.Unary(Op::kExp, g.Unary(Op::kNeg, acc));
  const Tape tape = CompileTape(g, {r1, acc}, 1, 0);
  const double u[] = {0.4};
  EXPECT_EQ(RunTape(tape, 0, u, nullptr), Evaluate(g, {r1, acc}, 0, u, nullptr));
}

TEST(TapeTest, TooManyRegistersIsAnError) {
  Graph g;
  std::vector<NodeId> roots;
  for (int i = 0; i < 70000; ++i) roots.push_back(g.Constant(i + 0.5));
  const absl::StatusOr<Tape> tape = TryCompileTape(g, roots, 0, 0);
  EXPECT_EQ(tape.status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace ensolve::ir
