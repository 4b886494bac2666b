// A post-order walk of the IR with an explicit stack (no recursion, so arbitrarily deep
// graphs are fine): what the rewriting passes (derivative.h, substitute.h) share.
#ifndef ENSOLVE_ENGINE_IR_WALK_H_
#define ENSOLVE_ENGINE_IR_WALK_H_

#include <utility>
#include <vector>

#include "engine/ir/graph.h"

namespace ensolve::ir {

// Calls visit(id) once for every node `root` reaches that done(id) does not report, each
// after its operands; visit may add nodes to the graph and marks id done. Stops, returning
// false, when visit returns false.
template <class Done, class Visit>
bool PostOrder(const Graph& graph, NodeId root, Done done, Visit visit) {
  std::vector<std::pair<NodeId, bool>> stack;
  stack.push_back({root, false});
  while (!stack.empty()) {
    auto [id, expanded] = stack.back();
    stack.pop_back();
    if (done(id)) continue;
    const Node n = graph.node(id);  // a copy: visit may grow the graph
    const int arity = Arity(n.op);
    if (!expanded && arity > 0) {
      stack.push_back({id, true});
      const NodeId ops[3] = {n.a, n.b, n.c};
      for (int k = 0; k < arity; ++k) {
        if (!done(ops[k])) stack.push_back({ops[k], false});
      }
      continue;
    }
    if (!visit(id)) return false;
  }
  return true;
}

}  // namespace ensolve::ir

#endif  // ENSOLVE_ENGINE_IR_WALK_H_
