#include "engine/ir/derivative.h"

#include <cmath>
#include <utility>

#include "engine/ir/walk.h"

namespace ensolve::ir {

NodeId Differentiate(Graph& graph, NodeId f, Var var) {
  return Differentiator(graph, var).Derive(f);
}

NodeId Differentiator::Derive(NodeId f) {
  if (exceeded_) return kNoNode;
  const bool done = PostOrder(
      graph_, f, [&](NodeId id) { return Memo(id) != kNoNode; },
      [&](NodeId id) {
        const NodeId d = Rule(id);
        if (static_cast<NodeId>(memo_.size()) <= id) memo_.resize(id + 1, kNoNode);
        memo_[id] = d;
        exceeded_ = max_nodes_ > 0 && graph_.size() > max_nodes_;
        return !exceeded_;
      });
  return done ? memo_[f] : kNoNode;
}

NodeId Differentiator::Rule(NodeId id) {
  Graph& g = graph_;
  const Node n = g.node(id);
  const NodeId a = n.a, b = n.b, c = n.c;
  const NodeId da = Arity(n.op) >= 1 ? Memo(a) : kNoNode;
  const NodeId db = Arity(n.op) >= 2 ? Memo(b) : kNoNode;
  const NodeId dc = Arity(n.op) >= 3 ? Memo(c) : kNoNode;
  auto k = [&](double v) { return g.Constant(v); };
  auto add = [&](NodeId x, NodeId y) { return g.Binary(Op::kAdd, x, y); };
  auto sub = [&](NodeId x, NodeId y) { return g.Binary(Op::kSub, x, y); };
  auto mul = [&](NodeId x, NodeId y) { return g.Binary(Op::kMul, x, y); };
  auto div = [&](NodeId x, NodeId y) { return g.Binary(Op::kDiv, x, y); };
  auto neg = [&](NodeId x) { return g.Unary(Op::kNeg, x); };
  auto un = [&](Op op, NodeId x) { return g.Unary(op, x); };
  auto is_zero = [&](NodeId x) { return g.IsConstantEqual(x, 0.0); };

  switch (n.op) {
    case Op::kConst:
      return k(0);
    case Op::kTime:
      return k(var_.kind == Op::kTime ? 1 : 0);
    case Op::kState:
    case Op::kParam:
      return k(var_.kind == n.op && var_.index == n.index ? 1 : 0);
    // Piecewise constant: derivative zero (almost everywhere).
    case Op::kFloor:
    case Op::kCeil:
    case Op::kSign:
    case Op::kNot:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe:
    case Op::kEq:
    case Op::kNe:
    case Op::kAnd:
    case Op::kOr:
      return k(0);
    default:
      break;
  }
  // Chain rule for unary ops: f(a)' = f'(a) * a'.
  if (Arity(n.op) == 1) {
    if (is_zero(da)) return k(0);
    NodeId outer = kNoNode;  // f'(a)
    switch (n.op) {
      case Op::kNeg:
        return neg(da);
      case Op::kSin:
        outer = un(Op::kCos, a);
        break;
      case Op::kCos:
        outer = neg(un(Op::kSin, a));
        break;
      case Op::kTan:  // 1 + tan^2, reusing the tan node
        outer = add(k(1), mul(id, id));
        break;
      case Op::kAsin:
        return div(da, un(Op::kSqrt, sub(k(1), mul(a, a))));
      case Op::kAcos:
        return neg(div(da, un(Op::kSqrt, sub(k(1), mul(a, a)))));
      case Op::kAtan:
        return div(da, add(k(1), mul(a, a)));
      case Op::kSinh:
        outer = un(Op::kCosh, a);
        break;
      case Op::kCosh:
        outer = un(Op::kSinh, a);
        break;
      case Op::kTanh:
        outer = sub(k(1), mul(id, id));
        break;
      case Op::kExp:
        outer = id;
        break;
      case Op::kLog:
        return div(da, a);
      case Op::kLog10:
        return div(da, mul(a, k(std::log(10.0))));
      case Op::kSqrt:
        return div(da, mul(k(2), id));
      case Op::kAbs:
        outer = un(Op::kSign, a);
        break;
      default:
        return k(0);
    }
    return mul(outer, da);
  }
  switch (n.op) {
    case Op::kAdd:
      return add(da, db);
    case Op::kSub:
      return sub(da, db);
    case Op::kMul:
      return add(mul(da, b), mul(a, db));
    case Op::kDiv:
      // (a/b)' = a'/b - (a/b) * b'/b
      if (is_zero(db)) return div(da, b);
      return sub(div(da, b), div(mul(id, db), b));
    case Op::kPow: {
      double vb;
      if (g.IsConstant(b, &vb)) {
        // (a^c)' = c * a^(c-1) * a'
        return mul(mul(k(vb), g.Binary(Op::kPow, a, k(vb - 1))), da);
      }
      // (a^b)' = a^b * (b' * log(a) + b * a' / a)
      const NodeId term = add(mul(db, un(Op::kLog, a)), div(mul(b, da), a));
      return mul(id, term);
    }
    case Op::kAtan2: {
      // atan2(y, x)' = (x*y' - y*x') / (x^2 + y^2)
      const NodeId num = sub(mul(b, da), mul(a, db));
      if (is_zero(num)) return k(0);
      return div(num, add(mul(a, a), mul(b, b)));
    }
    // The derivative of the argument the node selected: comparing the result with a
    // follows fmin/fmax exactly, NaN arguments included (ties go to a).
    case Op::kMin:
    case Op::kMax:
      return g.Ternary(Op::kIfElse, g.Binary(Op::kEq, id, a), da, db);
    case Op::kIfElse:
      return g.Ternary(Op::kIfElse, a, db, dc);
    default:
      return k(0);
  }
}

}  // namespace ensolve::ir
