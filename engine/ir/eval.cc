#include "engine/ir/eval.h"

#include <algorithm>

namespace ensolve::ir {

std::vector<double> Evaluate(const Graph& graph, const std::vector<NodeId>& roots, double t,
                             const double* u, const double* p) {
  const std::vector<char> live = Reachable(graph, roots);
  const NodeId top = static_cast<NodeId>(live.size()) - 1;
  std::vector<double> v(top + 1, 0.0);
  for (NodeId id = 0; id <= top; ++id) {
    if (!live[id]) continue;
    const Node& n = graph.node(id);
    switch (n.op) {
      case Op::kConst:
        v[id] = n.value;
        break;
      case Op::kTime:
        v[id] = t;
        break;
      case Op::kState:
        v[id] = u[n.index];
        break;
      case Op::kParam:
        v[id] = p[n.index];
        break;
      default: {
        const int arity = Arity(n.op);
        v[id] = EvalOp(n.op, v[n.a], arity >= 2 ? v[n.b] : 0.0, arity >= 3 ? v[n.c] : 0.0);
        break;
      }
    }
  }
  std::vector<double> out;
  out.reserve(roots.size());
  for (NodeId r : roots) out.push_back(v[r]);
  return out;
}

double Evaluate(const Graph& graph, NodeId root, double t, const double* u, const double* p) {
  return Evaluate(graph, std::vector<NodeId>{root}, t, u, p)[0];
}

std::vector<double> RunTape(const Tape& tape, double t, const double* u, const double* p) {
  std::vector<double> r(tape.num_regs, 0.0);
  r[tape.time_reg()] = t;
  for (int i = 0; i < tape.num_states; ++i) r[tape.state_reg(i)] = u[i];
  for (int i = 0; i < tape.num_params; ++i) r[tape.param_reg(i)] = p[i];
  for (size_t k = 0; k < tape.consts.size(); ++k)
    r[tape.const_reg(static_cast<int>(k))] = tape.consts[k];
  for (const Instr& in : tape.code) r[in.dst] = EvalOp(in.op, r[in.a], r[in.b], r[in.c]);
  std::vector<double> out;
  out.reserve(tape.roots.size());
  for (uint16_t reg : tape.roots) out.push_back(r[reg]);
  return out;
}

}  // namespace ensolve::ir
