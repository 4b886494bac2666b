// Reference evaluators in scalar double precision: the semantics every backend must match.
// Meant for tests (of this module and of the backends) and for one-off evaluations such
// as constant defaults; not for speed.
#ifndef ENSOLVE_ENGINE_IR_EVAL_H_
#define ENSOLVE_ENGINE_IR_EVAL_H_

#include <vector>

#include "engine/ir/graph.h"
#include "engine/ir/tape.h"

namespace ensolve::ir {

// Values of `roots` at (t, u, p). `u` and `p` must hold every state / parameter index the
// graph mentions.
std::vector<double> Evaluate(const Graph& graph, const std::vector<NodeId>& roots, double t,
                             const double* u, const double* p);
double Evaluate(const Graph& graph, NodeId root, double t, const double* u, const double* p);

// Runs `tape` once at (t, u, p) and returns the values of its roots, in order.
std::vector<double> RunTape(const Tape& tape, double t, const double* u, const double* p);

}  // namespace ensolve::ir

#endif  // ENSOLVE_ENGINE_IR_EVAL_H_
