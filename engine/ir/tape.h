// A register tape: a straight-line program computed from IR roots, for backends that
// interpret the model (the CPU backend evaluates it over a pack of trajectories at a time).
//
// Register file layout (each register is one value per lane):
//   [0]                              t
//   [1, 1 + n_states)                states
//   [.., + n_params)                 params
//   [.., + consts.size())            constants (filled once from `consts`)
//   [.., num_regs)                   temporaries
// Each instruction reads registers a, b, c (by arity; unused operands are 0) and writes
// dst; dst never equals one of the instruction's operand registers. Roots are copied out
// from `roots[k]` after the last instruction (a root may sit in a time/state/param/constant
// register, and two roots may share one).
#ifndef ENSOLVE_ENGINE_IR_TAPE_H_
#define ENSOLVE_ENGINE_IR_TAPE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/ir/graph.h"

namespace ensolve::ir {

struct Instr {
  Op op;
  uint16_t dst, a, b, c;
};

struct Tape {
  int num_states = 0;
  int num_params = 0;
  int num_regs = 0;
  std::vector<double> consts;  // values of the constant registers, in order
  std::vector<Instr> code;
  std::vector<uint16_t> roots;  // register holding each root's value

  int time_reg() const { return 0; }
  int state_reg(int i) const { return 1 + i; }
  int param_reg(int i) const { return 1 + num_states + i; }
  int const_reg(int k) const { return 1 + num_states + num_params + k; }
};

// Builds a tape computing `roots` (only nodes they reach are emitted; registers of dead
// temporaries are reused). Fails only if more than 65535 registers would be needed, and
// aborts in that case (a model that passed Model::Parse always fits: Parse checks the tape
// of all its roots together, and any subset of them needs no more registers).
Tape CompileTape(const Graph& graph, const std::vector<NodeId>& roots, int num_states,
                 int num_params);

// As CompileTape, but returns RESOURCE_EXHAUSTED instead of aborting.
absl::StatusOr<Tape> TryCompileTape(const Graph& graph, const std::vector<NodeId>& roots,
                                    int num_states, int num_params);

}  // namespace ensolve::ir

#endif  // ENSOLVE_ENGINE_IR_TAPE_H_
