#include "engine/model/model.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/ir/derivative.h"
#include "engine/ir/eval.h"
#include "engine/ir/tape.h"
#include "engine/model/lexer.h"
#include "engine/model/parser.h"
#include "engine/model/sha256.h"

namespace ensolve {

using model_internal::Pos;
using model_internal::PosPrefix;

class ModelBuilder {
 public:
  static absl::StatusOr<std::unique_ptr<Model>> Build(std::string_view source,
                                                      const ModelLimits& limits) {
    if (static_cast<int64_t>(source.size()) > limits.max_source_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(PosPrefix(Pos{}), "the source is ", source.size(),
                       " bytes, over the limit max_source_bytes = ", limits.max_source_bytes));
    }
    const auto start = std::chrono::steady_clock::now();
    // RESOURCE_EXHAUSTED once max_compile_seconds have passed.
    auto out_of_time = [&]() -> absl::Status {
      if (limits.max_compile_seconds <= 0) return absl::OkStatus();
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (s <= limits.max_compile_seconds) return absl::OkStatus();
      return absl::ResourceExhaustedError(absl::StrCat(
          PosPrefix(Pos{}), "compiling the model took more than the limit max_compile_seconds = ",
          limits.max_compile_seconds, " (its derivatives are too large, or the server is busy)"));
    };
    model_internal::ParsedModel parsed;
    if (absl::Status s = model_internal::ParseModel(source, limits, &parsed); !s.ok()) return s;
    if (absl::Status s = out_of_time(); !s.ok()) return s;

    std::unique_ptr<Model> m(new Model());
    m->state_names_ = std::move(parsed.state_names);
    m->param_names_ = std::move(parsed.param_names);
    m->output_names_ = std::move(parsed.output_names);
    m->state_defaults_ = std::move(parsed.state_defaults);
    m->param_defaults_ = std::move(parsed.param_defaults);
    m->graph_ = std::move(parsed.graph);
    m->init_graph_ = std::move(parsed.init_graph);
    m->state_init_ = std::move(parsed.state_init);
    for (ir::NodeId id : m->state_init_) {
      m->init_depends_on_params_ |= !m->init_graph_.IsConstant(id);
    }
    m->rhs_ = std::move(parsed.rhs);
    m->outputs_ = std::move(parsed.outputs);
    m->events_ = std::move(parsed.events);
    for (const ModelEvent& ev : m->events_) {
      for (const ModelEvent::Assignment& a : ev.assignments) m->events_assign_params_ |= a.param;
    }

    // Jacobian column by column (one memo per variable), then the time derivative.
    const int n = m->num_states();
    ir::Graph& g = m->graph_;
    m->jacobian_.assign(static_cast<size_t>(n) * n, ir::kNoNode);
    auto too_big = [&](int row) {
      return absl::InvalidArgumentError(absl::StrCat(
          PosPrefix(parsed.equation_pos[row]),
          "the model and its derivatives need more IR nodes than the limit max_nodes = ",
          limits.max_nodes));
    };
    for (int j = 0; j < n; ++j) {
      if (absl::Status s = out_of_time(); !s.ok()) return s;
      ir::Differentiator d(g, ir::Var::State(j), limits.max_nodes);
      for (int i = 0; i < n; ++i) {
        const ir::NodeId id = d.Derive(m->rhs_[i]);
        if (id == ir::kNoNode) return too_big(i);
        m->jacobian_[static_cast<size_t>(i) * n + j] = id;
      }
    }
    ir::Differentiator dt(g, ir::Var::Time(), limits.max_nodes);
    for (int i = 0; i < n; ++i) {
      const ir::NodeId id = dt.Derive(m->rhs_[i]);
      if (id == ir::kNoNode) return too_big(i);
      m->time_derivative_.push_back(id);
    }

    for (int i = 0; i < n; ++i) m->state_nodes_.push_back(g.State(i));
    // The noise matrix, dense n x m.
    m->wiener_names_ = std::move(parsed.wiener_names);
    const int nw = m->num_wiener();
    if (nw > 0) {
      m->noise_.assign(static_cast<size_t>(n) * nw, g.Constant(0));
      std::vector<int> terms(n, 0);
      for (const model_internal::ParsedModel::NoiseTerm& term : parsed.noise) {
        m->noise_[static_cast<size_t>(term.state) * nw + term.wiener] = term.coefficient;
        m->noise_diagonal_ &= ++terms[term.state] <= 1;
      }
    }
    if (absl::Status s = out_of_time(); !s.ok()) return s;

    // Every tape a backend builds from these roots needs at most as many registers as the
    // tape of all of them together; make sure that one fits.
    std::vector<ir::NodeId> all = m->rhs_;
    all.insert(all.end(), m->outputs_.begin(), m->outputs_.end());
    all.insert(all.end(), m->jacobian_.begin(), m->jacobian_.end());
    all.insert(all.end(), m->time_derivative_.begin(), m->time_derivative_.end());
    all.insert(all.end(), m->noise_.begin(), m->noise_.end());
    for (const ModelEvent& ev : m->events_) {
      all.push_back(ev.condition);
      for (const ModelEvent::Assignment& a : ev.assignments) all.push_back(a.value);
    }
    if (absl::StatusOr<ir::Tape> tape = ir::TryCompileTape(g, all, n, m->num_params());
        !tape.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          PosPrefix(Pos{}), "the model is too large: it needs more than 65535 registers"));
    }

    m->source_ = std::string(source);
    m->hash_ = Sha256Hex(source);
    return m;
  }
};

absl::StatusOr<std::unique_ptr<Model>> Model::Parse(std::string_view source,
                                                    const ModelLimits& limits) {
  return ModelBuilder::Build(source, limits);
}

absl::StatusOr<std::vector<ir::NodeId>> Model::SelectionRoots(
    const std::vector<std::string>& names) const {
  std::vector<ir::NodeId> roots;
  for (size_t k = 0; k < names.size(); ++k) {
    const std::string& name = names[k];
    const std::string shown = name.size() > 64 ? name.substr(0, 64) + "..." : name;
    ir::NodeId id = ir::kNoNode;
    for (int i = 0; i < num_states() && id == ir::kNoNode; ++i) {
      if (state_names_[i] == name) id = state_nodes_[i];
    }
    for (int i = 0; i < num_outputs() && id == ir::kNoNode; ++i) {
      if (output_names_[i] == name) id = outputs_[i];
    }
    if (id == ir::kNoNode) {
      std::vector<std::string> known = state_names_;
      known.insert(known.end(), output_names_.begin(), output_names_.end());
      if (known.size() > 12) {
        known.resize(12);
        known.push_back("...");
      }
      return absl::InvalidArgumentError(
          absl::StrCat("outputs[", k, "]: '", shown,
                       "' is neither a state nor an output of the model; expected one of ",
                       absl::StrJoin(known, ", ")));
    }
    for (size_t j = 0; j < k; ++j) {
      if (names[j] == name) {
        return absl::InvalidArgumentError(
            absl::StrCat("outputs[", k, "]: '", shown, "' is already outputs[", j, "]"));
      }
    }
    roots.push_back(id);
  }
  return roots;
}

std::vector<ir::NodeId> Model::EventConditions() const {
  std::vector<ir::NodeId> roots;
  for (const ModelEvent& ev : events_) roots.push_back(ev.condition);
  return roots;
}

std::vector<ir::NodeId> Model::EventValues(int e) const {
  std::vector<ir::NodeId> roots;
  for (const ModelEvent::Assignment& a : events_[e].assignments) roots.push_back(a.value);
  return roots;
}

void Model::InitialState(const double* p, double* u0) const {
  if (!init_depends_on_params_) {
    for (int i = 0; i < num_states(); ++i) u0[i] = state_defaults_[i];
    return;
  }
  const std::vector<double> v = ir::Evaluate(init_graph_, state_init_, 0, nullptr, p);
  std::copy(v.begin(), v.end(), u0);
}

}  // namespace ensolve
