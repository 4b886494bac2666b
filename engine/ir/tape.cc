#include "engine/ir/tape.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace ensolve::ir {
namespace {

constexpr int kMaxRegs = 65535;

}  // namespace

absl::StatusOr<Tape> TryCompileTape(const Graph& graph, const std::vector<NodeId>& roots,
                                    int num_states, int num_params) {
  Tape tape;
  tape.num_states = num_states;
  tape.num_params = num_params;
  NodeId top = -1;
  for (NodeId r : roots) top = std::max(top, r);

  // Reachability and last use (the id of the last reachable node that reads each node).
  std::vector<char> live(top + 1, 0);
  std::vector<NodeId> last_use(top + 1, -1);
  for (NodeId r : roots) live[r] = 1;
  for (NodeId id = top; id >= 0; --id) {
    if (!live[id]) continue;
    const Node& n = graph.node(id);
    const int arity = Arity(n.op);
    const NodeId ops[3] = {n.a, n.b, n.c};
    for (int k = 0; k < arity; ++k) {
      live[ops[k]] = 1;
      last_use[ops[k]] = std::max(last_use[ops[k]], id);
    }
  }
  // Roots stay live to the end: their registers are read after the last instruction.
  for (NodeId r : roots) last_use[r] = top + 1;

  std::vector<int> reg(top + 1, -1);
  // Constants first: they form a contiguous block after the parameters.
  for (NodeId id = 0; id <= top; ++id) {
    if (!live[id] || graph.node(id).op != Op::kConst) continue;
    reg[id] = tape.const_reg(static_cast<int>(tape.consts.size()));
    tape.consts.push_back(graph.node(id).value);
  }
  const int first_temp = tape.const_reg(static_cast<int>(tape.consts.size()));
  int num_regs = first_temp;
  std::vector<int> free_regs;  // temporaries whose value is dead
  for (NodeId id = 0; id <= top; ++id) {
    if (!live[id]) continue;
    const Node& n = graph.node(id);
    switch (n.op) {
      case Op::kConst:
        continue;
      case Op::kTime:
        reg[id] = tape.time_reg();
        continue;
      case Op::kState:
        reg[id] = tape.state_reg(n.index);
        continue;
      case Op::kParam:
        reg[id] = tape.param_reg(n.index);
        continue;
      default:
        break;
    }
    // The destination is taken before the operands are released, so dst never aliases an
    // operand register (backends may then use restrict-qualified pointers).
    int dst;
    if (!free_regs.empty()) {
      dst = free_regs.back();
      free_regs.pop_back();
    } else {
      dst = num_regs++;
    }
    reg[id] = dst;
    const int arity = Arity(n.op);
    Instr in{n.op, static_cast<uint16_t>(dst), 0, 0, 0};
    if (arity >= 1) in.a = static_cast<uint16_t>(reg[n.a]);
    if (arity >= 2) in.b = static_cast<uint16_t>(reg[n.b]);
    if (arity >= 3) in.c = static_cast<uint16_t>(reg[n.c]);
    tape.code.push_back(in);
    if (num_regs > kMaxRegs) {
      return absl::ResourceExhaustedError(
          "the model needs more than 65535 tape registers; simplify it");
    }
    // Release temporaries read for the last time here (each once, even if read twice).
    const NodeId ops[3] = {n.a, n.b, n.c};
    for (int k = 0; k < arity; ++k) {
      const NodeId o = ops[k];
      if (last_use[o] == id && reg[o] >= first_temp) {
        free_regs.push_back(reg[o]);
        last_use[o] = -1;  // released
      }
    }
  }
  if (num_regs > kMaxRegs) {
    return absl::ResourceExhaustedError(
        "the model needs more than 65535 tape registers; simplify it");
  }
  tape.num_regs = num_regs;
  for (NodeId r : roots) tape.roots.push_back(static_cast<uint16_t>(reg[r]));
  return tape;
}

Tape CompileTape(const Graph& graph, const std::vector<NodeId>& roots, int num_states,
                 int num_params) {
  absl::StatusOr<Tape> tape = TryCompileTape(graph, roots, num_states, num_params);
  if (!tape.ok()) {
    // Model::Parse rejects models whose full tape would not fit, so this is a caller bug.
    std::fprintf(stderr, "CompileTape: %s\n", tape.status().ToString().c_str());
    std::abort();
  }
  return *std::move(tape);
}

}  // namespace ensolve::ir
