#include "engine/ir/substitute.h"

#include "engine/ir/walk.h"

namespace ensolve::ir {

NodeId Substituter::Rewrite(NodeId f) {
  auto memo = [&](NodeId id) {
    return id < static_cast<NodeId>(memo_.size()) ? memo_[id] : kNoNode;
  };
  PostOrder(
      graph_, f, [&](NodeId id) { return memo(id) != kNoNode; },
      [&](NodeId id) {
        const NodeId r = Rule(id);
        if (static_cast<NodeId>(memo_.size()) <= id) memo_.resize(id + 1, kNoNode);
        memo_[id] = r;
        return true;
      });
  return memo_[f];
}

NodeId Substituter::Rule(NodeId id) {
  const Node n = graph_.node(id);
  switch (Arity(n.op)) {
    case 0:
      if (n.op == Op::kState && n.index < static_cast<int>(states_.size())) {
        return states_[n.index];
      }
      return id;
    case 1:
      return graph_.Unary(n.op, memo_[n.a]);
    case 2:
      return graph_.Binary(n.op, memo_[n.a], memo_[n.b]);
    default:
      return graph_.Ternary(n.op, memo_[n.a], memo_[n.b], memo_[n.c]);
  }
}

}  // namespace ensolve::ir
