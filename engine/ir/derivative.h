// Symbolic differentiation on the IR. Derivatives are built with the Graph's own
// constructors, so they come out constant-folded, simplified and shared with the nodes
// that already exist (d/dx of x*y reuses y).
//
// Thread-safety: mutates the Graph; same rules as Graph.
#ifndef ENSOLVE_ENGINE_IR_DERIVATIVE_H_
#define ENSOLVE_ENGINE_IR_DERIVATIVE_H_

#include <vector>

#include "engine/ir/graph.h"

namespace ensolve::ir {

// The variable to differentiate by: a state u_j, a parameter p_j, or the time t.
struct Var {
  Op kind = Op::kTime;  // kTime, kState or kParam
  int index = 0;

  static Var Time() { return {Op::kTime, 0}; }
  static Var State(int j) { return {Op::kState, j}; }
  static Var Param(int j) { return {Op::kParam, j}; }
};

// Differentiates many expressions by one variable, remembering the derivative of every node
// it has visited, so the derivatives of the rows of a Jacobian column share their work.
// Iterative (no recursion), so arbitrarily deep graphs are fine.
class Differentiator {
 public:
  // `max_nodes` > 0: stop once the graph holds more than that many nodes (see exceeded()).
  Differentiator(Graph& graph, Var var, int max_nodes = 0)
      : graph_(graph), var_(var), max_nodes_(max_nodes) {}

  // d f / d var. Returns kNoNode if the node budget was exceeded.
  NodeId Derive(NodeId f);
  bool exceeded() const { return exceeded_; }

 private:
  NodeId Rule(NodeId id);  // derivative of `id`, given those of its operands
  NodeId Memo(NodeId id) const {
    return id < static_cast<NodeId>(memo_.size()) ? memo_[id] : kNoNode;
  }

  Graph& graph_;
  Var var_;
  int max_nodes_;
  bool exceeded_ = false;
  std::vector<NodeId> memo_;  // node -> derivative, kNoNode if not yet known
};

// One-shot convenience: d f / d var.
NodeId Differentiate(Graph& graph, NodeId f, Var var);

}  // namespace ensolve::ir

#endif  // ENSOLVE_ENGINE_IR_DERIVATIVE_H_
