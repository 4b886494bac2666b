// Recursive-descent parser for the model language (docs/model-language.md). It checks
// names, arity, defaults and limits, and builds the right-hand side and the outputs
// directly into an IR graph. Derivatives are added later by Model::Parse.
#ifndef ENSOLVE_ENGINE_MODEL_PARSER_H_
#define ENSOLVE_ENGINE_MODEL_PARSER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/ir/graph.h"
#include "engine/model/event.h"
#include "engine/model/lexer.h"
#include "engine/model/limits.h"

namespace ensolve::model_internal {

struct ParsedModel {
  std::vector<std::string> state_names, param_names, output_names;
  std::vector<double> state_defaults, param_defaults;
  ir::Graph graph;
  // Each state's default as an expression of the parameters, in `init_graph` (a separate
  // graph, so the right-hand side's stays free of it); a constant node when it uses none.
  ir::Graph init_graph;
  std::vector<ir::NodeId> state_init;
  std::vector<ir::NodeId> rhs;      // one per state, in declaration order
  std::vector<Pos> equation_pos;    // where each state's equation starts
  std::vector<ir::NodeId> outputs;  // one per output
  // SDE noise (parser_noise.cc): Wiener processes in the order they appear (each name of
  // a `wiener` statement, and one per noise line without increments), and the nonzero
  // entries of the noise matrix g (n x num_wiener).
  struct NoiseTerm {
    int state;
    int wiener;
    ir::NodeId coefficient;
  };
  int num_wiener = 0;
  std::vector<std::string> wiener_names;  // "W1", or "(x)" for the process of state x's line
  std::vector<NoiseTerm> noise;
  std::vector<ModelEvent> events;  // in declaration order
};

// Wiener increments are parameter leaves numbered from here in the graph while noise lines
// are parsed; they never reach any root (the noise coefficients are derivatives by them).
inline constexpr int kIncrementParamBase = 1 << 24;

// Parses `source` (whose size the caller has already checked) into `out`. Errors are
// INVALID_ARGUMENT, "line L, column C: ...".
absl::Status ParseModel(std::string_view source, const ModelLimits& limits, ParsedModel* out);

}  // namespace ensolve::model_internal

#endif  // ENSOLVE_ENGINE_MODEL_PARSER_H_
