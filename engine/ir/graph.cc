#include "engine/ir/graph.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace ensolve::ir {

int Arity(Op op) {
  switch (op) {
    case Op::kConst:
    case Op::kTime:
    case Op::kState:
    case Op::kParam:
      return 0;
    case Op::kNeg:
    case Op::kSin:
    case Op::kCos:
    case Op::kTan:
    case Op::kAsin:
    case Op::kAcos:
    case Op::kAtan:
    case Op::kSinh:
    case Op::kCosh:
    case Op::kTanh:
    case Op::kExp:
    case Op::kLog:
    case Op::kLog10:
    case Op::kSqrt:
    case Op::kAbs:
    case Op::kFloor:
    case Op::kCeil:
    case Op::kSign:
    case Op::kNot:
      return 1;
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv:
    case Op::kPow:
    case Op::kAtan2:
    case Op::kMin:
    case Op::kMax:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe:
    case Op::kEq:
    case Op::kNe:
    case Op::kAnd:
    case Op::kOr:
      return 2;
    case Op::kIfElse:
      return 3;
  }
  return 0;
}

const char* OpName(Op op) {
  switch (op) {
    case Op::kConst:
      return "const";
    case Op::kTime:
      return "time";
    case Op::kState:
      return "state";
    case Op::kParam:
      return "param";
    case Op::kNeg:
      return "neg";
    case Op::kSin:
      return "sin";
    case Op::kCos:
      return "cos";
    case Op::kTan:
      return "tan";
    case Op::kAsin:
      return "asin";
    case Op::kAcos:
      return "acos";
    case Op::kAtan:
      return "atan";
    case Op::kSinh:
      return "sinh";
    case Op::kCosh:
      return "cosh";
    case Op::kTanh:
      return "tanh";
    case Op::kExp:
      return "exp";
    case Op::kLog:
      return "log";
    case Op::kLog10:
      return "log10";
    case Op::kSqrt:
      return "sqrt";
    case Op::kAbs:
      return "abs";
    case Op::kFloor:
      return "floor";
    case Op::kCeil:
      return "ceil";
    case Op::kSign:
      return "sign";
    case Op::kNot:
      return "not";
    case Op::kAdd:
      return "add";
    case Op::kSub:
      return "sub";
    case Op::kMul:
      return "mul";
    case Op::kDiv:
      return "div";
    case Op::kPow:
      return "pow";
    case Op::kAtan2:
      return "atan2";
    case Op::kMin:
      return "min";
    case Op::kMax:
      return "max";
    case Op::kLt:
      return "lt";
    case Op::kLe:
      return "le";
    case Op::kGt:
      return "gt";
    case Op::kGe:
      return "ge";
    case Op::kEq:
      return "eq";
    case Op::kNe:
      return "ne";
    case Op::kAnd:
      return "and";
    case Op::kOr:
      return "or";
    case Op::kIfElse:
      return "ifelse";
  }
  return "?";
}

bool IsCommutative(Op op) {
  switch (op) {
    case Op::kAdd:
    case Op::kMul:
    case Op::kMin:
    case Op::kMax:
    case Op::kEq:
    case Op::kNe:
    case Op::kAnd:
    case Op::kOr:
      return true;
    default:
      return false;
  }
}

double EvalOp(Op op, double a, double b, double c) {
  switch (op) {
    case Op::kConst:
    case Op::kTime:
    case Op::kState:
    case Op::kParam:
      return std::nan("");  // leaves carry their own values
    case Op::kNeg:
      return -a;
    case Op::kSin:
      return std::sin(a);
    case Op::kCos:
      return std::cos(a);
    case Op::kTan:
      return std::tan(a);
    case Op::kAsin:
      return std::asin(a);
    case Op::kAcos:
      return std::acos(a);
    case Op::kAtan:
      return std::atan(a);
    case Op::kSinh:
      return std::sinh(a);
    case Op::kCosh:
      return std::cosh(a);
    case Op::kTanh:
      return std::tanh(a);
    case Op::kExp:
      return std::exp(a);
    case Op::kLog:
      return std::log(a);
    case Op::kLog10:
      return std::log10(a);
    case Op::kSqrt:
      return std::sqrt(a);
    case Op::kAbs:
      return std::fabs(a);
    case Op::kFloor:
      return std::floor(a);
    case Op::kCeil:
      return std::ceil(a);
    case Op::kSign:
      return a > 0 ? 1.0 : (a < 0 ? -1.0 : a);  // sign(±0) = ±0, NaN stays
    case Op::kNot:
      return a == 0 ? 1.0 : 0.0;
    case Op::kAdd:
      return a + b;
    case Op::kSub:
      return a - b;
    case Op::kMul:
      return a * b;
    case Op::kDiv:
      return a / b;
    case Op::kPow:
      return std::pow(a, b);
    case Op::kAtan2:
      return std::atan2(a, b);
    case Op::kMin:
      return std::fmin(a, b);
    case Op::kMax:
      return std::fmax(a, b);
    case Op::kLt:
      return a < b ? 1.0 : 0.0;
    case Op::kLe:
      return a <= b ? 1.0 : 0.0;
    case Op::kGt:
      return a > b ? 1.0 : 0.0;
    case Op::kGe:
      return a >= b ? 1.0 : 0.0;
    case Op::kEq:
      return a == b ? 1.0 : 0.0;
    case Op::kNe:
      return a != b ? 1.0 : 0.0;
    case Op::kAnd:
      return (a != 0 && b != 0) ? 1.0 : 0.0;
    case Op::kOr:
      return (a != 0 || b != 0) ? 1.0 : 0.0;
    case Op::kIfElse:
      return a != 0 ? b : c;
  }
  return std::nan("");
}

NodeId Graph::Constant(double v) {
  Node n;
  n.op = Op::kConst;
  n.value = v;
  return Intern(n);
}

NodeId Graph::Time() {
  Node n;
  n.op = Op::kTime;
  return Intern(n);
}

NodeId Graph::State(int i) {
  Node n;
  n.op = Op::kState;
  n.index = i;
  return Intern(n);
}

NodeId Graph::Param(int i) {
  Node n;
  n.op = Op::kParam;
  n.index = i;
  return Intern(n);
}

bool Graph::IsConstant(NodeId id, double* value) const {
  if (id < 0 || id >= size() || nodes_[id].op != Op::kConst) return false;
  if (value != nullptr) *value = nodes_[id].value;
  return true;
}

bool Graph::IsConstantEqual(NodeId id, double v) const {
  double x;
  return IsConstant(id, &x) && x == v;
}

NodeId Graph::Unary(Op op, NodeId a) {
  double va;
  if (IsConstant(a, &va)) return Constant(EvalOp(op, va, 0, 0));
  const Node na = nodes_[a];  // a copy: the recursion below may grow nodes_
  switch (op) {
    case Op::kNeg:
      if (na.op == Op::kNeg) return na.a;                          // -(-x) = x
      if (na.op == Op::kSub) return Binary(Op::kSub, na.b, na.a);  // -(x-y) = y-x
      break;
    case Op::kAbs:
      if (na.op == Op::kAbs) return a;
      if (na.op == Op::kNeg) return Unary(Op::kAbs, na.a);  // |-x| = |x|
      break;
    case Op::kFloor:
    case Op::kCeil:
      if (na.op == Op::kFloor || na.op == Op::kCeil) return a;  // already integral
      break;
    case Op::kSign:
      if (na.op == Op::kSign) return a;
      break;
    default:
      break;
  }
  Node n;
  n.op = op;
  n.a = a;
  return Intern(n);
}

NodeId Graph::Binary(Op op, NodeId a, NodeId b) {
  double va = 0, vb = 0;
  const bool ca = IsConstant(a, &va), cb = IsConstant(b, &vb);
  if (ca && cb) return Constant(EvalOp(op, va, vb, 0));
  const Node na = nodes_[a], nb = nodes_[b];
  switch (op) {
    case Op::kAdd:
      if (ca && va == 0) return b;
      if (cb && vb == 0) return a;
      if (nb.op == Op::kNeg) return Binary(Op::kSub, a, nb.a);  // x + -y = x - y
      if (na.op == Op::kNeg) return Binary(Op::kSub, b, na.a);  // -x + y = y - x
      break;
    case Op::kSub:
      if (cb && vb == 0) return a;
      if (ca && va == 0) return Unary(Op::kNeg, b);
      if (a == b) return Constant(0.0);
      if (nb.op == Op::kNeg) return Binary(Op::kAdd, a, nb.a);  // x - -y = x + y
      break;
    case Op::kMul:
      if ((ca && va == 0) || (cb && vb == 0)) return Constant(0.0);
      if (ca && va == 1) return b;
      if (cb && vb == 1) return a;
      if (ca && va == -1) return Unary(Op::kNeg, b);
      if (cb && vb == -1) return Unary(Op::kNeg, a);
      if (na.op == Op::kNeg && nb.op == Op::kNeg) return Binary(Op::kMul, na.a, nb.a);
      break;
    case Op::kDiv:
      if (ca && va == 0) return Constant(0.0);
      if (cb && vb == 1) return a;
      if (cb && vb == -1) return Unary(Op::kNeg, a);
      if (na.op == Op::kNeg && nb.op == Op::kNeg) return Binary(Op::kDiv, na.a, nb.a);
      break;
    case Op::kPow:
      if (cb && vb == 1) return a;
      if (cb && vb == 0) return Constant(1.0);
      if (ca && va == 1) return Constant(1.0);
      break;
    case Op::kMin:
    case Op::kMax:
      if (a == b) return a;
      break;
    case Op::kAnd:
      if ((ca && va == 0) || (cb && vb == 0)) return Constant(0.0);
      break;
    case Op::kOr:
      if ((ca && va != 0) || (cb && vb != 0)) return Constant(1.0);
      break;
    default:
      break;
  }
  if (IsCommutative(op) && b < a) std::swap(a, b);
  Node n;
  n.op = op;
  n.a = a;
  n.b = b;
  return Intern(n);
}

NodeId Graph::Ternary(Op op, NodeId a, NodeId b, NodeId c) {
  double va;
  if (op == Op::kIfElse) {
    if (IsConstant(a, &va)) return va != 0 ? b : c;
    if (b == c) return b;
  }
  Node n;
  n.op = op;
  n.a = a;
  n.b = b;
  n.c = c;
  return Intern(n);
}

NodeId Graph::Intern(const Node& n) {
  // Compact binary key (at most 13 bytes, so it stays in the small-string buffer).
  char buf[16];
  size_t len = 0;
  buf[len++] = static_cast<char>(n.op);
  auto put = [&](const void* p, size_t k) {
    std::memcpy(buf + len, p, k);
    len += k;
  };
  switch (n.op) {
    case Op::kConst:
      put(&n.value, sizeof(n.value));
      break;
    case Op::kTime:
      break;
    case Op::kState:
    case Op::kParam:
      put(&n.index, sizeof(n.index));
      break;
    default: {
      const int arity = Arity(n.op);
      put(&n.a, sizeof(n.a));
      if (arity >= 2) put(&n.b, sizeof(n.b));
      if (arity >= 3) put(&n.c, sizeof(n.c));
      break;
    }
  }
  auto [it, inserted] = index_.emplace(std::string(buf, len), static_cast<NodeId>(nodes_.size()));
  if (inserted) nodes_.push_back(n);
  return it->second;
}

std::vector<char> Reachable(const Graph& graph, const std::vector<NodeId>& roots) {
  NodeId top = -1;
  for (NodeId r : roots) top = std::max(top, r);
  std::vector<char> live(top + 1, 0);
  for (NodeId r : roots) live[r] = 1;
  // Operands have smaller ids than their users, so one descending pass finds them all.
  for (NodeId id = top; id >= 0; --id) {
    if (!live[id]) continue;
    const Node& n = graph.node(id);
    const int arity = Arity(n.op);
    if (arity >= 1) live[n.a] = 1;
    if (arity >= 2) live[n.b] = 1;
    if (arity >= 3) live[n.c] = 1;
  }
  return live;
}

}  // namespace ensolve::ir
