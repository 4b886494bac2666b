// Event statements of the model language (docs/model-language.md, "Events"):
//   when <expr> crosses 0 [up | down] : <actions>
//   at t = <time> {, <time>} : <actions>
// with actions `name = expr` (states and params, simultaneous) and/or `terminate`.
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/ir/eval.h"
#include "engine/model/names.h"
#include "engine/model/parser_internal.h"

namespace ensolve::model_internal {
namespace {

bool IsWord(const Token& t, std::string_view w) { return t.kind == Tok::kIdent && t.text == w; }

}  // namespace

bool Parser::NewEvent(const Token& keyword, ModelEvent::Kind kind) {
  if (static_cast<int>(m_.events.size()) >= limits_.max_events) {
    Fail(keyword.pos,
         absl::StrCat("too many events (limit max_events = ", limits_.max_events, ")"));
    return false;
  }
  ModelEvent ev;
  ev.kind = kind;
  ev.line = keyword.pos.line;
  ev.column = keyword.pos.column;
  m_.events.push_back(std::move(ev));
  return true;
}

// when <expr> crosses 0 [up|down] : actions
void Parser::When() {
  const Token& keyword = Next();
  if (!NewEvent(keyword, ModelEvent::Kind::kCrossing)) return;
  const Token& start = Peek();
  const NodeId cond = Expr();
  if (!ok()) return;
  ModelEvent& ev = m_.events.back();
  ev.condition = cond;
  const Token& crosses = Next();
  if (!IsWord(crosses, "crosses")) {
    Unexpected(crosses, "'crosses 0' after the condition (when <expr> crosses 0 [up|down]: ...)");
    return;
  }
  const Token& zero = Next();
  if (zero.kind != Tok::kNumber || zero.number != 0) {
    Unexpected(zero, "'0' after 'crosses' (the crossing is of zero: write 'when a - b crosses 0')");
    return;
  }
  if (IsWord(Peek(), "up") || IsWord(Peek(), "down")) ev.direction = Next().text == "up" ? 1 : -1;
  if (m_.graph.IsConstant(cond)) {
    Fail(start.pos, "the condition of the event is constant: it never crosses 0");
    return;
  }
  const Token& colon = Next();
  if (colon.kind != Tok::kColon) {
    Unexpected(colon, ev.direction == 0 ? "'up', 'down' or ':' before the event's actions"
                                        : "':' before the event's actions");
    return;
  }
  SkipNewlines();
  Actions();
}

// at t = <time> {, <time>} : actions
void Parser::At() {
  const Token& keyword = Next();
  if (!NewEvent(keyword, ModelEvent::Kind::kTimes)) return;
  m_.events.back().condition = m_.graph.Constant(0);
  const Token& t = Next();
  if (!IsWord(t, "t")) {
    Unexpected(t, "'t' after 'at' (at t = 1, 2.5: ...)");
    return;
  }
  const Token& eq = Next();
  if (eq.kind != Tok::kAssign) {
    Unexpected(eq, "'=' after 'at t'");
    return;
  }
  SkipNewlines();
  while (ok()) {
    const Token& start = Peek();
    constant_only_ = true;
    const_rule_ = ": event times must be constant expressions (numbers, functions and pi)";
    g_ = &m_.init_graph;
    const NodeId id = Expr();
    constant_only_ = false;
    const_rule_ = nullptr;
    g_ = &m_.graph;
    if (!ok()) return;
    const double v = ir::Evaluate(m_.init_graph, id, 0, nullptr, m_.param_defaults.data());
    std::vector<double>& times = m_.events.back().times;
    if (!std::isfinite(v)) {
      Fail(start.pos, absl::StrCat("the event time is not finite (", v, ")"));
      return;
    }
    if (!times.empty() && v <= times.back()) {
      Fail(start.pos, v == times.back() ? absl::StrCat("duplicate event time ", v)
                                        : absl::StrCat("event times must be increasing: ", v,
                                                       " comes after ", times.back()));
      return;
    }
    if (++event_times_ > limits_.max_event_times) {
      Fail(start.pos, absl::StrCat("too many event times (limit max_event_times = ",
                                   limits_.max_event_times, ")"));
      return;
    }
    times.push_back(v);
    const Token& sep = Next();
    if (sep.kind == Tok::kColon) break;
    if (sep.kind != Tok::kComma) {
      Unexpected(sep, "',' or ':' after an event time");
      return;
    }
    SkipNewlines();
  }
  SkipNewlines();
  Actions();
}

// name = expr {, name = expr} [, terminate]  |  terminate
void Parser::Actions() {
  while (ok()) {
    const Token& tok = Next();
    if (IsWord(tok, "terminate")) {
      m_.events.back().terminate = true;
      if (Peek().kind == Tok::kComma) {
        Fail(Peek().pos, "'terminate' ends the event's actions: nothing may follow it");
      }
      return;
    }
    if (tok.kind != Tok::kIdent || IsStatementKeyword(tok.text)) {
      Unexpected(tok, "an assignment (name = expr) or 'terminate'");
      return;
    }
    if (!Assignment(tok)) return;
    if (Peek().kind != Tok::kComma) return;
    Next();
    SkipNewlines();
  }
}

bool Parser::Assignment(const Token& name) {
  if (name.text == "t") {
    Fail(name.pos, "cannot assign to the time variable 't'");
    return false;
  }
  auto it = syms_.find(name.text);
  if (it == syms_.end()) {
    Fail(name.pos,
         absl::StrCat("assignment to undefined name '", Sv(name.text), "'", Suggest(name.text)));
    return false;
  }
  const Symbol& sym = it->second;
  if (sym.kind != Kind::kState && sym.kind != Kind::kParam) {
    Fail(name.pos,
         absl::StrCat("cannot assign to '", Sv(name.text), "', which is ", WithArticle(sym.kind),
                      ": an event assigns only states and params"));
    return false;
  }
  const bool param = sym.kind == Kind::kParam;
  ModelEvent& ev = m_.events.back();
  for (size_t k = 0; k < ev.assignments.size(); ++k) {
    if (ev.assignments[k].param == param && ev.assignments[k].index == sym.index) {
      Fail(name.pos,
           absl::StrCat("'", Sv(name.text), "' is assigned twice in this event (first at line ",
                        assign_pos_[k].line, ", column ", assign_pos_[k].column, ")"));
      return false;
    }
  }
  if (ev.assignments.empty()) assign_pos_.clear();
  assign_pos_.push_back(name.pos);
  const Token& eq = Next();
  if (eq.kind != Tok::kAssign) {
    Unexpected(eq, absl::StrCat("'=' after '", Sv(name.text), "' (an event assigns ", Sv(name.text),
                                " = ...)"));
    return false;
  }
  SkipNewlines();
  const NodeId value = Expr();
  if (!ok()) return false;
  ev.assignments.push_back(ModelEvent::Assignment{param, sym.index, value});
  return true;
}

}  // namespace ensolve::model_internal
