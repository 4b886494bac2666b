// Substitution on the IR: an expression with its state leaves replaced by other nodes,
// f(t, u, p) -> f(t, v(t, u, p), p), built with the Graph's own constructors (folded,
// simplified and shared like every node).
//
// Thread-safety: mutates the Graph; same rules as Graph.
#ifndef ENSOLVE_ENGINE_IR_SUBSTITUTE_H_
#define ENSOLVE_ENGINE_IR_SUBSTITUTE_H_

#include <utility>
#include <vector>

#include "engine/ir/graph.h"

namespace ensolve::ir {

// Rewrites many expressions with the same replacement, remembering every node it has
// rewritten (the rows of a right-hand side share their work). Iterative, like
// Differentiator: arbitrarily deep graphs are fine.
class Substituter {
 public:
  // states[i] replaces state i's leaf; states past the vector's end stay themselves.
  Substituter(Graph& graph, std::vector<NodeId> states)
      : graph_(graph), states_(std::move(states)) {}

  NodeId Rewrite(NodeId f);

 private:
  NodeId Rule(NodeId id);  // `id` rebuilt over its operands' rewrites
  Graph& graph_;
  std::vector<NodeId> states_;
  std::vector<NodeId> memo_;  // node -> rewrite, kNoNode if not yet known
};

}  // namespace ensolve::ir

#endif  // ENSOLVE_ENGINE_IR_SUBSTITUTE_H_
