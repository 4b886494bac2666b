#include "engine/model/sensitivity.h"

#include <chrono>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/ir/derivative.h"
#include "engine/ir/substitute.h"
#include "engine/ir/tape.h"
#include "engine/model/names.h"
#include "engine/model/sha256.h"

namespace ensolve {

std::string SensitivityName(std::string_view quantity, std::string_view param) {
  return absl::StrCat("d(", std::string(quantity), ")/d(", std::string(param), ")");
}

absl::StatusOr<std::vector<int>> SensitivityParams(const Model& model,
                                                   const std::vector<std::string>& names) {
  std::vector<int> params;
  const std::vector<std::string>& known = model.param_names();
  for (size_t k = 0; k < names.size(); ++k) {
    const std::string& name = names[k];
    const std::string shown = name.size() > 64 ? name.substr(0, 64) + "..." : name;
    int index = -1;
    for (int i = 0; i < model.num_params() && index < 0; ++i) {
      if (known[i] == name) index = i;
    }
    if (index < 0) {
      if (known.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("sensitivities[", k, "]: '", shown,
                                                       "' is not a parameter: the model has none"));
      }
      std::vector<std::string_view> candidates(known.begin(), known.end());
      const std::string close = model_internal::ClosestName(name, candidates);
      std::vector<std::string> listed(known.begin(),
                                      known.begin() + std::min<size_t>(known.size(), 12));
      if (known.size() > 12) listed.push_back("...");
      return absl::InvalidArgumentError(
          absl::StrCat("sensitivities[", k, "]: '", shown, "' is not a parameter of the model",
                       close.empty() ? "" : absl::StrCat(" (did you mean '", close, "'?)"),
                       "; expected one of ", absl::StrJoin(listed, ", ")));
    }
    for (size_t j = 0; j < k; ++j) {
      if (names[j] == name) {
        return absl::InvalidArgumentError(absl::StrCat("sensitivities[", k, "]: '", shown,
                                                       "' is already sensitivities[", j, "]"));
      }
    }
    params.push_back(index);
  }
  return params;
}

absl::Status CheckSensitivitiesSupported(const Model& model) {
  // The server checks this before the algorithm: an SDE method needs a model with noise.
  if (model.has_noise()) {
    return absl::InvalidArgumentError(
        "sensitivities: the model is stochastic (it has noise terms); forward sensitivities "
        "are for ODE models");
  }
  // An event that assigns a parameter changes that parameter's own sensitivity, which the
  // augmented system holds constant (docs/sensitivities.md, "Events").
  for (const ModelEvent& e : model.events()) {
    for (const ModelEvent::Assignment& a : e.assignments) {
      if (!a.param) continue;
      return absl::InvalidArgumentError(
          absl::StrCat("sensitivities: the event at line ", e.line, ", column ", e.column,
                       " assigns parameter '", model.param_names()[a.index],
                       "'; sensitivities across events that assign parameters are not supported"));
    }
  }
  return absl::OkStatus();
}

class SensitivityModelBuilder {
 public:
  static absl::StatusOr<std::unique_ptr<Model>> Build(const Model& base,
                                                      const std::vector<int>& params,
                                                      const ModelLimits& limits) {
    const int n = base.num_states(), m = static_cast<int>(params.size());
    const int nk = base.num_outputs();
    if (m == 0) return absl::InvalidArgumentError("sensitivities: no parameters given");
    if (!base.sensitivity_params().empty()) {
      return absl::InvalidArgumentError("sensitivities: the model is already a sensitivity model");
    }
    const int64_t total = int64_t{n} * (1 + m);
    if (total > limits.max_states) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sensitivities: ", m, " parameters make the augmented system ", n, " x (1 + ", m,
          ") = ", total, " states, over the limit max_model_states = ", limits.max_states,
          "; ask for fewer parameters"));
    }
    const int N = static_cast<int>(total);
    const auto start = std::chrono::steady_clock::now();
    auto out_of_time = [&]() -> absl::Status {
      if (limits.max_compile_seconds <= 0) return absl::OkStatus();
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (s <= limits.max_compile_seconds) return absl::OkStatus();
      return absl::ResourceExhaustedError(
          absl::StrCat("sensitivities: deriving the sensitivity equations took more than the limit "
                       "max_compile_seconds = ",
                       limits.max_compile_seconds));
    };
    const absl::Status too_many_nodes = absl::InvalidArgumentError(
        absl::StrCat("sensitivities: the model's sensitivity equations for ", m, " parameters (", N,
                     " states) need more IR nodes than the limit max_nodes = ", limits.max_nodes,
                     "; ask for fewer parameters"));

    std::unique_ptr<Model> a(new Model());
    // A copy of the base graph: every base node (f, outputs, J, df/dt) keeps its id, and the
    // new nodes are hash-consed against them.
    a->graph_ = base.graph_;
    ir::Graph& g = a->graph_;
    auto over = [&] { return limits.max_nodes > 0 && g.size() > limits.max_nodes; };
    const ir::NodeId zero = g.Constant(0);
    auto S = [&](int i, int j) { return g.State(n + j * n + i); };
    auto add = [&](ir::NodeId x, ir::NodeId y) { return g.Binary(ir::Op::kAdd, x, y); };
    auto mul = [&](ir::NodeId x, ir::NodeId y) { return g.Binary(ir::Op::kMul, x, y); };
    const std::vector<ir::NodeId>& J = base.jacobian_;

    // One differentiator per base state (d/du_k, for the outputs' and the Jacobian's
    // sensitivity rows) and per chosen parameter; each remembers what it has derived.
    std::vector<ir::Differentiator> du, dp;
    du.reserve(n);
    dp.reserve(m);
    for (int k = 0; k < n; ++k) du.emplace_back(g, ir::Var::State(k), limits.max_nodes);
    for (int j = 0; j < m; ++j) dp.emplace_back(g, ir::Var::Param(params[j]), limits.max_nodes);

    // Right-hand side: f, then S_j' = J S_j + df/dp_j (J's entries are the base Jacobian's
    // nodes; structural zeros drop out).
    a->rhs_ = base.rhs_;
    for (int j = 0; j < m; ++j) {
      if (absl::Status s = out_of_time(); !s.ok()) return s;
      for (int i = 0; i < n; ++i) {
        ir::NodeId sum = dp[j].Derive(base.rhs_[i]);
        if (sum == ir::kNoNode) return too_many_nodes;
        for (int k = 0; k < n; ++k) {
          const ir::NodeId jik = J[static_cast<size_t>(i) * n + k];
          if (g.IsConstantEqual(jik, 0.0)) continue;
          sum = add(sum, mul(jik, S(k, j)));
        }
        a->rhs_.push_back(sum);
      }
      if (over()) return too_many_nodes;
    }

    // Outputs: o, then do/dp_j = do/du . S_j + do/dp_j.
    a->outputs_ = base.outputs_;
    for (int j = 0; j < m; ++j) {
      for (int r = 0; r < nk; ++r) {
        const ir::NodeId o = base.outputs_[r];
        ir::NodeId sum = dp[j].Derive(o);
        if (sum == ir::kNoNode) return too_many_nodes;
        for (int k = 0; k < n; ++k) {
          const ir::NodeId dok = du[k].Derive(o);
          if (dok == ir::kNoNode) return too_many_nodes;
          if (g.IsConstantEqual(dok, 0.0)) continue;
          sum = add(sum, mul(dok, S(k, j)));
        }
        a->outputs_.push_back(sum);
      }
      if (over()) return too_many_nodes;
    }

    // Jacobian, by blocks: [J 0; d(S_j')/du  (J on the diagonal)]. S_j' is linear in S_j
    // with coefficients J (which do not depend on S), so the diagonal blocks are J's nodes
    // exactly and the blocks off the diagonal and above it are zero.
    a->jacobian_.assign(static_cast<size_t>(N) * N, zero);
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < n; ++k) {
        a->jacobian_[static_cast<size_t>(i) * N + k] = J[static_cast<size_t>(i) * n + k];
      }
    }
    for (int j = 0; j < m; ++j) {
      if (absl::Status s = out_of_time(); !s.ok()) return s;
      for (int i = 0; i < n; ++i) {
        const size_t row = static_cast<size_t>(n + j * n + i) * N;
        const ir::NodeId f = a->rhs_[n + j * n + i];
        for (int k = 0; k < n; ++k) {
          const ir::NodeId d = du[k].Derive(f);
          if (d == ir::kNoNode) return too_many_nodes;
          a->jacobian_[row + k] = d;
          a->jacobian_[row + n + j * n + k] = J[static_cast<size_t>(i) * n + k];
        }
      }
    }
    a->time_derivative_ = base.time_derivative_;
    ir::Differentiator dt(g, ir::Var::Time(), limits.max_nodes);
    for (int r = n; r < N; ++r) {
      const ir::NodeId d = dt.Derive(a->rhs_[r]);
      if (d == ir::kNoNode) return too_many_nodes;
      a->time_derivative_.push_back(d);
    }
    if (over()) return too_many_nodes;
    // Events: every base event, with the jumps of the sensitivities it moves.
    ir::Differentiator dt_event(g, ir::Var::Time(), limits.max_nodes);
    for (const ModelEvent& e : base.events_) {
      if (absl::Status s = out_of_time(); !s.ok()) return s;
      a->events_.push_back(e);
      if (!AddJumps(base, e, n, m, g, du, dp, dt_event, a->events_.back().assignments) || over()) {
        return too_many_nodes;
      }
    }
    a->events_assign_params_ = base.events_assign_params_;

    // Initial states: u0 (the defaults), then du0/dp_j from the defaults' derivatives.
    a->init_graph_ = base.init_graph_;
    a->state_init_ = base.state_init_;
    for (int j = 0; j < m; ++j) {
      ir::Differentiator d(a->init_graph_, ir::Var::Param(params[j]));
      for (int i = 0; i < n; ++i) a->state_init_.push_back(d.Derive(base.state_init_[i]));
    }
    a->init_depends_on_params_ = base.init_depends_on_params_;

    a->state_names_ = base.state_names_;
    a->output_names_ = base.output_names_;
    for (int j = 0; j < m; ++j) {
      const std::string& p = base.param_names_[params[j]];
      for (int i = 0; i < n; ++i)
        a->state_names_.push_back(SensitivityName(base.state_names_[i], p));
    }
    for (int j = 0; j < m; ++j) {
      const std::string& p = base.param_names_[params[j]];
      for (int r = 0; r < nk; ++r) {
        a->output_names_.push_back(SensitivityName(base.output_names_[r], p));
      }
    }
    a->param_names_ = base.param_names_;
    a->param_defaults_ = base.param_defaults_;
    a->state_defaults_ = base.state_defaults_;
    a->state_defaults_.resize(N, 0.0);
    for (int i = 0; i < N; ++i) a->state_nodes_.push_back(g.State(i));

    if (absl::Status s = out_of_time(); !s.ok()) return s;
    std::vector<ir::NodeId> all = a->rhs_;
    all.insert(all.end(), a->outputs_.begin(), a->outputs_.end());
    all.insert(all.end(), a->jacobian_.begin(), a->jacobian_.end());
    all.insert(all.end(), a->time_derivative_.begin(), a->time_derivative_.end());
    const std::vector<ir::NodeId> conditions = a->EventConditions();
    all.insert(all.end(), conditions.begin(), conditions.end());
    for (int e = 0; e < a->num_events(); ++e) {
      const std::vector<ir::NodeId> values = a->EventValues(e);
      all.insert(all.end(), values.begin(), values.end());
    }
    if (absl::StatusOr<ir::Tape> tape = ir::TryCompileTape(g, all, N, a->num_params());
        !tape.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("sensitivities: the sensitivity model for ", m, " parameters (", N,
                       " states) is too large: it needs more than 65535 registers"));
    }

    std::vector<std::string> names;
    for (int p : params) names.push_back(base.param_names_[p]);
    a->source_ = base.source_;
    a->hash_ = Sha256Hex(absl::StrCat(base.hash_, "\nsensitivities:", absl::StrJoin(names, ",")));
    a->sensitivity_params_ = params;
    a->input_states_ = n;
    return a;
  }

 private:
  // Appends to `out` (event e's assignments in the sensitivity model) the new value of
  // every sensitivity state the event changes. With the jump u+ = g(t, u-, p) (g_i = u_i
  // for a state the event leaves alone) at an event time tau,
  //
  //   S_j+ = g_u S_j- + g_p_j + (g_u f- + g_t - f+) dtau/dp_j,
  //
  // where dtau/dp_j = 0 for `at` events (their times are constants) and, for a crossing
  // of c(t, u, p) = 0, dtau/dp_j = -(c_u S_j- + c_p_j) / (c_u f- + c_t) (the derivative of
  // c(tau(p), u(tau(p), p), p) = 0); f+ = f(tau, u+, p), or 0 for a `terminate` event (the
  // trajectory stops: what is differentiated is the final state g(tau, u(tau))). Every
  // right-hand side reads the values before the event, as the event's own assignments do.
  // False past the node budget.
  static bool AddJumps(const Model& base, const ModelEvent& e, int n, int m, ir::Graph& g,
                       std::vector<ir::Differentiator>& du, std::vector<ir::Differentiator>& dp,
                       ir::Differentiator& dt, std::vector<ModelEvent::Assignment>& out) {
    auto add = [&](ir::NodeId x, ir::NodeId y) { return g.Binary(ir::Op::kAdd, x, y); };
    auto sub = [&](ir::NodeId x, ir::NodeId y) { return g.Binary(ir::Op::kSub, x, y); };
    auto mul = [&](ir::NodeId x, ir::NodeId y) { return g.Binary(ir::Op::kMul, x, y); };
    auto S = [&](int i, int j) { return g.State(n + j * n + i); };
    const std::vector<ir::NodeId>& f = base.rhs_;
    std::vector<ir::NodeId> jump(n);  // g(t, u, p), state by state
    for (int i = 0; i < n; ++i) jump[i] = g.State(i);
    for (const ModelEvent::Assignment& asg : e.assignments) jump[asg.index] = asg.value;
    // g_u, row by row.
    std::vector<ir::NodeId> gu(static_cast<size_t>(n) * n);
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < n; ++k) {
        if ((gu[static_cast<size_t>(i) * n + k] = du[k].Derive(jump[i])) == ir::kNoNode) {
          return false;
        }
      }
    }
    auto dot = [&](auto coef, auto vec) {  // sum_k coef(k) vec(k)
      ir::NodeId sum = g.Constant(0);
      for (int k = 0; k < n; ++k) sum = add(sum, mul(coef(k), vec(k)));
      return sum;
    };
    const bool crossing = e.kind == ModelEvent::Kind::kCrossing;
    std::vector<ir::NodeId> cu(n), moved(n);  // c_u; g_u f- + g_t - f+
    ir::NodeId speed = ir::kNoNode;           // c_u f- + c_t
    if (crossing) {
      for (int k = 0; k < n; ++k) {
        if ((cu[k] = du[k].Derive(e.condition)) == ir::kNoNode) return false;
      }
      const ir::NodeId ct = dt.Derive(e.condition);
      if (ct == ir::kNoNode) return false;
      speed = add(dot([&](int k) { return cu[k]; }, [&](int k) { return f[k]; }), ct);
      ir::Substituter after(g, jump);
      for (int i = 0; i < n; ++i) {
        const ir::NodeId gt = dt.Derive(jump[i]);
        const ir::NodeId fplus = e.terminate ? g.Constant(0) : after.Rewrite(f[i]);
        if (gt == ir::kNoNode) return false;
        const ir::NodeId gf = dot([&](int k) { return gu[static_cast<size_t>(i) * n + k]; },
                                  [&](int k) { return f[k]; });
        moved[i] = sub(add(gf, gt), fplus);
      }
    }
    for (int j = 0; j < m; ++j) {
      ir::NodeId dtau = ir::kNoNode;
      if (crossing) {
        const ir::NodeId cp = dp[j].Derive(e.condition);
        if (cp == ir::kNoNode) return false;
        const ir::NodeId cs =
            add(dot([&](int k) { return cu[k]; }, [&](int k) { return S(k, j); }), cp);
        dtau = g.Unary(ir::Op::kNeg, g.Binary(ir::Op::kDiv, cs, speed));
      }
      for (int i = 0; i < n; ++i) {
        const ir::NodeId gp = dp[j].Derive(jump[i]);
        if (gp == ir::kNoNode) return false;
        ir::NodeId value = add(dot([&](int k) { return gu[static_cast<size_t>(i) * n + k]; },
                                   [&](int k) { return S(k, j); }),
                               gp);
        if (crossing) value = add(value, mul(moved[i], dtau));
        if (value != S(i, j)) out.push_back({false, n + j * n + i, value});
      }
    }
    return true;
  }
};

absl::StatusOr<std::unique_ptr<Model>> BuildSensitivityModel(const Model& base,
                                                             const std::vector<int>& params,
                                                             const ModelLimits& limits) {
  for (size_t j = 0; j < params.size(); ++j) {
    if (params[j] < 0 || params[j] >= base.num_params()) {
      return absl::InvalidArgumentError(
          absl::StrCat("sensitivities[", j, "]: parameter index ", params[j], " out of range"));
    }
    for (size_t k = 0; k < j; ++k) {
      if (params[k] == params[j]) {
        return absl::InvalidArgumentError(
            absl::StrCat("sensitivities[", j, "]: parameter repeated"));
      }
    }
  }
  if (absl::Status s = CheckSensitivitiesSupported(base); !s.ok()) return s;
  return SensitivityModelBuilder::Build(base, params, limits);
}

std::vector<std::string> SensitivitySelection(const std::vector<std::string>& names,
                                              const std::vector<std::string>& params) {
  if (names.empty()) return {};
  std::vector<std::string> out = names;
  for (const std::string& p : params) {
    for (const std::string& q : names) out.push_back(SensitivityName(q, p));
  }
  return out;
}

}  // namespace ensolve
