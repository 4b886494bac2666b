// The model IR: a DAG of scalar expressions over the time variable, the states and the
// parameters. Nodes are hash-consed (structurally equal nodes are one node: common
// subexpressions are merged on insertion) and constant subtrees are folded on insertion.
//
// Thread-safety: a Graph is not synchronized; build it on one thread, then share it
// read-only.
#ifndef ENSOLVE_ENGINE_IR_GRAPH_H_
#define ENSOLVE_ENGINE_IR_GRAPH_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace ensolve::ir {

using NodeId = int32_t;
inline constexpr NodeId kNoNode = -1;

// Every operation the IR knows. Arity is fixed per op (see Arity()). Comparisons and logic
// produce 1.0 or 0.0; IfElse(c, a, b) is a when c != 0, else b.
enum class Op : uint8_t {
  // Leaves.
  kConst,  // value
  kTime,   // t
  kState,  // index = state number
  kParam,  // index = parameter number
  // Unary.
  kNeg,
  kSin,
  kCos,
  kTan,
  kAsin,
  kAcos,
  kAtan,
  kSinh,
  kCosh,
  kTanh,
  kExp,
  kLog,
  kLog10,
  kSqrt,
  kAbs,
  kFloor,
  kCeil,
  kSign,
  kNot,
  // Binary.
  kAdd,
  kSub,
  kMul,
  kDiv,
  kPow,
  kAtan2,
  kMin,
  kMax,
  kLt,
  kLe,
  kGt,
  kGe,
  kEq,
  kNe,
  kAnd,
  kOr,
  // Ternary.
  kIfElse,
};

int Arity(Op op);
// Add, Mul, Min, Max, Eq, Ne, And, Or: the graph orders their operands by id.
bool IsCommutative(Op op);
// Lower-case name, as written in generated code comments and dumps ("add", "sin", ...).
const char* OpName(Op op);

struct Node {
  Op op = Op::kConst;
  NodeId a = kNoNode, b = kNoNode, c = kNoNode;  // operands, by arity
  int32_t index = 0;                             // kState / kParam
  double value = 0.0;                            // kConst
};

class Graph {
 public:
  // Leaves.
  NodeId Constant(double v);
  NodeId Time();
  NodeId State(int i);
  NodeId Param(int i);
  // Any op: folds constants and applies algebraic identities (x+0, x*1, x*0, x^1, --x, ...),
  // then returns the existing node if an equal one exists.
  NodeId Unary(Op op, NodeId a);
  NodeId Binary(Op op, NodeId a, NodeId b);
  NodeId Ternary(Op op, NodeId a, NodeId b, NodeId c);

  const Node& node(NodeId id) const { return nodes_[id]; }
  int size() const { return static_cast<int>(nodes_.size()); }
  bool IsConstant(NodeId id, double* value = nullptr) const;
  // True if `id` is a constant equal to `v`.
  bool IsConstantEqual(NodeId id, double v) const;

  // Operands always have smaller ids than the nodes that use them, so ascending id order is
  // a valid evaluation order.

 private:
  NodeId Intern(const Node& n);
  std::vector<Node> nodes_;
  std::unordered_map<std::string, NodeId> index_;  // structural key -> id
};

// Marks the nodes `roots` reach: one entry per id up to the largest root, 1 where reached.
std::vector<char> Reachable(const Graph& graph, const std::vector<NodeId>& roots);

// Scalar evaluation of one op on doubles (the reference semantics every backend follows).
double EvalOp(Op op, double a, double b, double c);

}  // namespace ensolve::ir

#endif  // ENSOLVE_ENGINE_IR_GRAPH_H_
