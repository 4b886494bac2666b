// A checked model: the result of parsing model text (docs/model-language.md). It owns the
// IR graph holding the right-hand side f(t, u, p), the named outputs, and their symbolic
// derivatives (Jacobian df/du and df/dt).
//
// Thread-safety: immutable after Parse(); safe to share between threads.
#ifndef ENSOLVE_ENGINE_MODEL_MODEL_H_
#define ENSOLVE_ENGINE_MODEL_MODEL_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/ir/graph.h"
#include "engine/model/event.h"
#include "engine/model/limits.h"

namespace ensolve {

class Model {
 public:
  // Parses and checks `source`. Errors are INVALID_ARGUMENT with a message of the form
  // "line L, column C: <what was found>: expected <what>" (or a name-level problem such as
  // "undefined name 'rhoo'"), always with the position. Exceeding `limits` is
  // INVALID_ARGUMENT naming the limit, except max_compile_seconds: RESOURCE_EXHAUSTED.
  static absl::StatusOr<std::unique_ptr<Model>> Parse(std::string_view source,
                                                      const ModelLimits& limits = {});

  int num_states() const { return static_cast<int>(state_names_.size()); }
  int num_params() const { return static_cast<int>(param_names_.size()); }
  int num_outputs() const { return static_cast<int>(output_names_.size()); }

  const std::vector<std::string>& state_names() const { return state_names_; }
  const std::vector<std::string>& param_names() const { return param_names_; }
  const std::vector<std::string>& output_names() const { return output_names_; }
  const std::vector<double>& state_defaults() const { return state_defaults_; }
  const std::vector<double>& param_defaults() const { return param_defaults_; }

  // Whether some state's default is an expression of the parameters (`state th = th0`):
  // then each trajectory's initial state follows its own parameters unless u0 is given.
  bool initial_state_depends_on_params() const { return init_depends_on_params_; }
  // The states' defaults for parameters p (num_params() values) into u0 (num_states()).
  void InitialState(const double* p, double* u0) const;

  const ir::Graph& graph() const { return graph_; }
  // rhs()[i] is du_i/dt.
  const std::vector<ir::NodeId>& rhs() const { return rhs_; }
  // outputs()[k] is the k-th named output.
  const std::vector<ir::NodeId>& outputs() const { return outputs_; }
  // jacobian()[i * n + j] = d rhs_i / d u_j (row-major, n = num_states()).
  const std::vector<ir::NodeId>& jacobian() const { return jacobian_; }
  // The graph nodes that compute the named states and outputs, in order: what a request's
  // output selection saves. INVALID_ARGUMENT ("outputs[k]: ...") for a name that is neither
  // a state nor an output, or one named twice.
  absl::StatusOr<std::vector<ir::NodeId>> SelectionRoots(
      const std::vector<std::string>& names) const;
  // time_derivative()[i] = d rhs_i / d t.
  const std::vector<ir::NodeId>& time_derivative() const { return time_derivative_; }

  // SDE noise (docs/model-language.md, "Noise"): du = f dt + g(t, u, p) dW, Itô, with m =
  // num_wiener() independent Wiener processes, numbered in the order they appear in the
  // source. noise()[i * m + j] = g_ij (row-major, n x m; constant 0 nodes where state i
  // has no term in process j). Empty for an ODE model.
  int num_wiener() const { return static_cast<int>(wiener_names_.size()); }
  bool has_noise() const { return num_wiener() > 0; }
  const std::vector<ir::NodeId>& noise() const { return noise_; }
  // Declared names ("W1"), or "(x)" for the process of state x's diagonal noise line.
  const std::vector<std::string>& wiener_names() const { return wiener_names_; }
  // Whether every state is driven by at most one Wiener process (diagonal and scalar
  // noise): what methods for diagonal noise (siea) need.
  bool noise_is_diagonal() const { return noise_diagonal_; }
  // The events (`when` and `at` statements), in declaration order: their conditions and
  // assigned values are nodes of graph().
  const std::vector<ModelEvent>& events() const { return events_; }
  int num_events() const { return static_cast<int>(events_.size()); }
  // Whether some event assigns a parameter (then each trajectory's parameters change as it
  // runs, and a backend keeps a copy of them per trajectory).
  bool events_assign_params() const { return events_assign_params_; }
  // The conditions of all events (a constant 0 for `at` events), one root per event.
  std::vector<ir::NodeId> EventConditions() const;
  // The values event e assigns, one root per assignment.
  std::vector<ir::NodeId> EventValues(int e) const;

  // A raw-kernel model (engine/model/raw_kernel.h): its right-hand side is a tenant's CUDA
  // source, run only by the CUDA backend; the graph holds only the state and parameter
  // leaves, and rhs(), jacobian(), time_derivative() and outputs() are empty.
  bool is_raw_kernel() const { return !raw_cuda_source_.empty(); }
  const std::string& raw_cuda_source() const { return raw_cuda_source_; }
  // The longest NVRTC may take to compile it (ModelLimits::max_compile_seconds; 0: no limit).
  double raw_compile_seconds() const { return raw_compile_seconds_; }

  // Content hash (hex) of the source text; the model's id.
  const std::string& hash() const { return hash_; }
  const std::string& source() const { return source_; }

  // Forward sensitivity models (engine/model/sensitivity.h): the parameters differentiated
  // by (empty for a model parsed from text), and the states an initial-state input gives
  // (num_states() for a parsed model; the base model's states for a sensitivity model,
  // whose sensitivity states start at du0/dp, see ResolveInputs()).
  const std::vector<int>& sensitivity_params() const { return sensitivity_params_; }
  int num_input_states() const { return input_states_ < 0 ? num_states() : input_states_; }

 private:
  friend class ModelBuilder;
  friend class SensitivityModelBuilder;
  friend class RawKernelModelBuilder;
  Model() = default;

  std::vector<std::string> state_names_, param_names_, output_names_;
  std::vector<double> state_defaults_, param_defaults_;
  ir::Graph graph_;
  ir::Graph init_graph_;  // the states' defaults over the parameters
  std::vector<ir::NodeId> state_init_;
  bool init_depends_on_params_ = false;
  std::vector<ir::NodeId> rhs_, outputs_, jacobian_, time_derivative_;
  std::vector<ir::NodeId> state_nodes_;  // state i's leaf
  std::vector<ir::NodeId> noise_;
  std::vector<std::string> wiener_names_;
  bool noise_diagonal_ = true;
  std::vector<ModelEvent> events_;
  bool events_assign_params_ = false;
  std::string hash_, source_;
  std::string raw_cuda_source_;
  double raw_compile_seconds_ = 0;
  std::vector<int> sensitivity_params_;
  int input_states_ = -1;
};

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_MODEL_MODEL_H_
