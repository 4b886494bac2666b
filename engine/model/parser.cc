#include "engine/model/parser.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/ir/eval.h"
#include "engine/model/names.h"
#include "engine/model/parser_internal.h"

namespace ensolve::model_internal {

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kState:
      return "state";
    case Kind::kParam:
      return "param";
    case Kind::kLet:
      return "let";
    case Kind::kOutput:
      return "output";
    case Kind::kWiener:
      return "Wiener process";
    case Kind::kIncrement:
      return "Wiener increment";
  }
  return "?";
}

std::string WithArticle(Kind k) {
  return absl::StrCat(k == Kind::kOutput ? "an " : "a ", KindName(k));
}

absl::Status Parser::Run() {
  while (ok()) {
    const Token& t = Peek();
    if (t.kind == Tok::kEnd) break;
    if (t.kind == Tok::kNewline) {
      Next();
      continue;
    }
    const Pos start = t.pos;
    Statement();
    if (!ok()) break;
    const Token& end = Peek();
    if (end.kind != Tok::kNewline && end.kind != Tok::kEnd) {
      Unexpected(end, "end of line");
      break;
    }
    if (m_.graph.size() > limits_.max_nodes) {
      Fail(start, absl::StrCat("the model needs more IR nodes than the limit max_nodes = ",
                               limits_.max_nodes));
    }
  }
  if (!ok()) return error_;
  if (m_.state_names.empty()) {
    Fail(toks_.back().pos,
         "the model declares no states: expected at least one 'state' declaration");
    return error_;
  }
  for (size_t i = 0; i < m_.rhs.size(); ++i) {
    if (m_.rhs[i] == kNoNode) {
      const std::string& name = m_.state_names[i];
      Fail(state_pos_[i], absl::StrCat("state '", name, "' has no equation: expected a line \"",
                                       name, "' = ...\""));
      return error_;
    }
  }
  return absl::OkStatus();
}

void Parser::Statement() {
  const Token& t = Peek();
  if (t.kind != Tok::kIdent) {
    Unexpected(t, "a statement (state, param, let, output or an equation x' = ...)");
    return;
  }
  if (const char* feature = ReservedFeature(t.text)) {
    Fail(t.pos,
         absl::StrCat("'", Sv(t.text), "' is not supported yet (reserved for ", feature, ")"));
    return;
  }
  if (t.text == "state") return Declarations(Kind::kState);
  if (t.text == "param") return Declarations(Kind::kParam);
  if (t.text == "let") return Let(Kind::kLet);
  if (t.text == "output") return Let(Kind::kOutput);
  if (t.text == "noise") return Noise();
  if (t.text == "wiener") return Wiener();
  if (t.text == "when") return When();
  if (t.text == "at") return At();
  if (t.text == "terminate") {
    Fail(t.pos, "'terminate' is an event's action: write it after 'when ...:' or 'at t = ...:'");
    return;
  }
  if (PeekAhead(1).kind == Tok::kPrime) return Equation();
  if (syms_.count(t.text) != 0 || t.text == "t") {
    Unexpected(PeekAhead(1), absl::StrCat("''' after '", Sv(t.text), "' (an equation is written ",
                                          Sv(t.text), "' = ...)"));
    return;
  }
  Unexpected(t, "a statement (state, param, let, output or an equation x' = ...)");
}

bool Parser::CheckNewName(const Token& name) {
  if (name.kind != Tok::kIdent) {
    Unexpected(name, "a name");
    return false;
  }
  const std::string_view s = name.text;
  if (const char* feature = ReservedFeature(s)) {
    Fail(name.pos, absl::StrCat("'", Sv(s), "' is not supported yet (reserved for ", feature,
                                ") and cannot be used as a name"));
  } else if (IsStatementKeyword(s)) {
    Fail(name.pos, absl::StrCat("'", Sv(s), "' is a keyword and cannot be used as a name"));
  } else if (s == "t") {
    Fail(name.pos, "'t' is the time variable and cannot be declared");
  } else if (s == "pi") {
    Fail(name.pos, "'pi' is a built-in constant and cannot be declared");
  } else if (FindFunction(s) != nullptr) {
    Fail(name.pos,
         absl::StrCat("'", Sv(s), "' is a built-in function and cannot be used as a name"));
  } else if (auto it = syms_.find(s); it != syms_.end()) {
    Fail(name.pos, absl::StrCat("duplicate name '", Sv(s), "': already declared as ",
                                WithArticle(it->second.kind), " at line ", it->second.pos.line,
                                ", column ", it->second.pos.column));
  }
  return ok();
}

void Parser::Declare(const Token& name, Symbol sym) {
  sym.pos = name.pos;
  syms_.emplace(name.text, sym);
  sym_order_.push_back(name.text);
}

// state a [= expr] {, b [= expr]}   (and the same for param)
void Parser::Declarations(Kind kind) {
  Next();  // the keyword
  while (ok()) {
    const Token& name = Next();
    if (!CheckNewName(name)) return;
    NodeId init = m_.init_graph.Constant(0);
    if (Peek().kind == Tok::kAssign) {
      Next();
      SkipNewlines();
      init = ConstantExpr(KindName(kind), name, kind == Kind::kState);
      if (!ok()) return;
    }
    const double value = ir::Evaluate(m_.init_graph, init, 0, nullptr, m_.param_defaults.data());
    if (kind == Kind::kState) {
      if (static_cast<int>(m_.state_names.size()) >= limits_.max_states) {
        Fail(name.pos,
             absl::StrCat("too many states (limit max_states = ", limits_.max_states, ")"));
        return;
      }
      Declare(name, Symbol{kind, static_cast<int>(m_.state_names.size())});
      m_.state_names.emplace_back(name.text);
      m_.state_defaults.push_back(value);
      m_.state_init.push_back(init);
      m_.rhs.push_back(kNoNode);
      m_.equation_pos.push_back(Pos{});
      state_pos_.push_back(name.pos);
    } else {
      if (static_cast<int>(m_.param_names.size()) >= limits_.max_params) {
        Fail(name.pos,
             absl::StrCat("too many params (limit max_params = ", limits_.max_params, ")"));
        return;
      }
      Declare(name, Symbol{kind, static_cast<int>(m_.param_names.size())});
      m_.param_names.emplace_back(name.text);
      m_.param_defaults.push_back(value);
    }
    if (Peek().kind != Tok::kComma) return;
    Next();
    SkipNewlines();
  }
}

NodeId Parser::ConstantExpr(std::string_view what, const Token& name, bool params_free) {
  const Token& start = Peek();
  constant_only_ = true;
  params_free_ = params_free;
  g_ = &m_.init_graph;
  const NodeId id = Expr();
  constant_only_ = false;
  params_free_ = false;
  g_ = &m_.graph;
  if (!ok()) return kNoNode;
  // With the parameters at their defaults the value must be finite; per-trajectory values
  // are the backend's to check (a non-finite initial state makes that trajectory unstable).
  const double v = ir::Evaluate(m_.init_graph, id, 0, nullptr, m_.param_defaults.data());
  if (!std::isfinite(v)) {
    Fail(start.pos, absl::StrCat("the default of ", Sv(what), " '", Sv(name.text),
                                 "' is not finite (", v, ")"));
    return kNoNode;
  }
  return id;
}

// let name = expr   /   output name = expr
void Parser::Let(Kind kind) {
  Next();  // the keyword
  const Token& name = Next();
  if (!CheckNewName(name)) return;
  const Token& eq = Next();
  if (eq.kind != Tok::kAssign) {
    Unexpected(eq, absl::StrCat("'=' after '", Sv(name.text), "'"));
    return;
  }
  SkipNewlines();
  const NodeId value = Expr();
  if (!ok()) return;
  Symbol sym(kind, 0);
  sym.node = value;
  if (kind == Kind::kOutput) {
    if (static_cast<int>(m_.output_names.size()) >= limits_.max_outputs) {
      Fail(name.pos,
           absl::StrCat("too many outputs (limit max_outputs = ", limits_.max_outputs, ")"));
      return;
    }
    sym.index = static_cast<int>(m_.output_names.size());
    m_.output_names.emplace_back(name.text);
    m_.outputs.push_back(value);
  }
  Declare(name, sym);
}

// x' = expr
void Parser::Equation() {
  const Token& name = Next();
  Next();  // the prime
  if (name.text == "t") {
    Fail(name.pos, "cannot assign to the time variable 't'");
    return;
  }
  auto it = syms_.find(name.text);
  if (it == syms_.end()) {
    Fail(name.pos,
         absl::StrCat("equation for undefined name '", Sv(name.text), "'", Suggest(name.text)));
    return;
  }
  const Symbol& sym = it->second;
  if (sym.kind != Kind::kState) {
    Fail(name.pos, absl::StrCat("equation for '", Sv(name.text), "', which is ",
                                WithArticle(sym.kind), ": only states have equations"));
    return;
  }
  if (m_.rhs[sym.index] != kNoNode) {
    const Pos first = m_.equation_pos[sym.index];
    Fail(name.pos, absl::StrCat("duplicate equation for '", Sv(name.text), "' (first at line ",
                                first.line, ", column ", first.column, ")"));
    return;
  }
  const Token& eq = Next();
  if (eq.kind != Tok::kAssign) {
    Unexpected(eq, absl::StrCat("'=' after ", Sv(name.text), "'"));
    return;
  }
  SkipNewlines();
  const NodeId value = Expr();
  if (!ok()) return;
  m_.rhs[sym.index] = value;
  m_.equation_pos[sym.index] = name.pos;
}

absl::Status ParseModel(std::string_view source, const ModelLimits& limits, ParsedModel* out) {
  absl::StatusOr<std::vector<Token>> toks = Lex(source, limits.max_identifier_length);
  if (!toks.ok()) return toks.status();
  return Parser(*std::move(toks), limits, out).Run();
}

}  // namespace ensolve::model_internal
