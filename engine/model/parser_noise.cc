// The SDE statements of the model language (docs/model-language.md, "Noise"):
//   wiener W1, W2          declares Wiener processes; dW1, dW2 are their increments
//   noise x = expr         x's diffusion: without increments, diagonal noise (a Wiener
//                          process of x's own); with them, linear in them (s1*dW1 + s2*dW2)
// A noise expression is parsed into the graph with each increment a parameter leaf
// (kIncrementParamBase + k); it is checked to be a linear form in them, and its
// coefficients are its symbolic derivatives by them.
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/ir/derivative.h"
#include "engine/model/names.h"
#include "engine/model/parser_internal.h"

namespace ensolve::model_internal {
namespace {

// How a node of a noise expression depends on the increments.
enum class Form : uint8_t {
  kFree,    // not at all
  kZero,    // the constant 0 (fits either)
  kLinear,  // a linear form in them without a constant term
  kBad,     // anything else
};

struct Shape {
  Form form = Form::kFree;
  int increment = -1;    // one increment involved (for kLinear and kBad)
  const char* why = "";  // for kBad: what is wrong
  bool mixed = false;    // kBad because a term has no increment
  Op op = Op::kConst;    // for kBad with why == nullptr: the operation it is inside
};

// "is inside sin()", for the operation a Wiener increment may not be inside.
std::string Inside(Op op) {
  switch (op) {
    case Op::kPow:
      return "is in a power (^)";
    case Op::kNot:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe:
    case Op::kEq:
    case Op::kNe:
    case Op::kAnd:
    case Op::kOr:
      return "is in a comparison or logical operator";
    default:
      return absl::StrCat("is inside ", ir::OpName(op), "()");
  }
}

// A position not yet recorded.
constexpr int kUnset = 0;

bool FreeOrZero(Form f) { return f == Form::kFree || f == Form::kZero; }
bool LinearOrZero(Form f) { return f == Form::kLinear || f == Form::kZero; }

// The shape of every node `root` reaches, bottom up (operands have smaller ids).
Shape Classify(const ir::Graph& g, NodeId root) {
  const std::vector<char> live = ir::Reachable(g, {root});
  std::vector<Shape> shape(live.size());
  for (NodeId id = 0; id <= root; ++id) {
    if (!live[id]) continue;
    const ir::Node& n = g.node(id);
    Shape& s = shape[id];
    const int arity = ir::Arity(n.op);
    if (arity == 0) {
      if (n.op == Op::kParam && n.index >= kIncrementParamBase) {
        s.form = Form::kLinear;
        s.increment = n.index - kIncrementParamBase;
      } else if (n.op == Op::kConst && n.value == 0.0) {
        s.form = Form::kZero;
      }
      continue;
    }
    const Shape* ops[3] = {&shape[n.a], arity >= 2 ? &shape[n.b] : nullptr,
                           arity >= 3 ? &shape[n.c] : nullptr};
    bool all_free = true;
    for (int k = 0; k < arity; ++k) {
      if (ops[k]->form == Form::kBad) {
        s = *ops[k];
        break;
      }
      if (!FreeOrZero(ops[k]->form)) {
        all_free = false;
        if (s.increment < 0) s.increment = ops[k]->increment;  // blame the first
      }
    }
    if (s.form == Form::kBad) continue;
    if (all_free) {
      s.form = Form::kFree;
      continue;
    }
    const Form a = ops[0]->form, b = arity >= 2 ? ops[1]->form : Form::kFree;
    auto bad = [&](const char* why, bool mixed = false) {
      s.form = Form::kBad;
      s.why = why;
      s.mixed = mixed;
    };
    switch (n.op) {
      case Op::kNeg:
        s.form = Form::kLinear;
        break;
      case Op::kAdd:
      case Op::kSub:
        if (LinearOrZero(a) && LinearOrZero(b)) {
          s.form = Form::kLinear;
        } else {
          bad("", true);
        }
        break;
      case Op::kMul:
        if (a == Form::kLinear && b == Form::kLinear) {
          bad("is multiplied by a Wiener increment");
        } else {
          s.form = Form::kLinear;
        }
        break;
      case Op::kDiv:
        if (FreeOrZero(b)) {
          s.form = Form::kLinear;
        } else {
          s.increment = ops[1]->increment;
          bad("is a divisor");
        }
        break;
      case Op::kIfElse:
        if (!FreeOrZero(a)) {
          s.increment = ops[0]->increment;
          bad("is in the condition of an ifelse");
        } else if (LinearOrZero(b) && LinearOrZero(ops[2]->form)) {
          s.form = Form::kLinear;
        } else {
          bad("", true);
        }
        break;
      default:
        bad(nullptr);
        s.op = n.op;
        break;
    }
  }
  return shape[root];
}

}  // namespace

// wiener W1 {, W2}
void Parser::Wiener() {
  Next();  // the keyword
  while (ok()) {
    const Token& name = Next();
    if (!CheckNewName(name)) return;
    increment_names_.push_back(absl::StrCat("d", Sv(name.text)));
    const std::string_view incr = increment_names_.back();
    if (FindFunction(incr) != nullptr || IsStatementKeyword(incr) ||
        ReservedFeature(incr) != nullptr) {
      Fail(name.pos, absl::StrCat("the increment '", Sv(incr), "' of Wiener process '",
                                  Sv(name.text), "' is a reserved name; choose another name"));
      return;
    }
    if (auto it = syms_.find(incr); it != syms_.end()) {
      Fail(name.pos,
           absl::StrCat("duplicate name '", Sv(incr), "' (the increment of Wiener process '",
                        Sv(name.text), "'): already declared as ", WithArticle(it->second.kind),
                        " at line ", it->second.pos.line, ", column ", it->second.pos.column));
      return;
    }
    if (m_.num_wiener >= limits_.max_wieners) {
      Fail(name.pos, absl::StrCat("too many Wiener processes (limit max_wieners = ",
                                  limits_.max_wieners, ")"));
      return;
    }
    const int k = m_.num_wiener++;
    m_.wiener_names.emplace_back(name.text);
    Declare(name, Symbol{Kind::kWiener, k});
    Symbol inc{Kind::kIncrement, k};
    inc.pos = name.pos;
    syms_.emplace(incr, inc);
    sym_order_.push_back(incr);
    if (Peek().kind != Tok::kComma) return;
    Next();
    SkipNewlines();
  }
}

NodeId Parser::IncrementName(const Token& t, const Symbol& sym) {
  const std::string_view s = t.text;
  if (sym.kind == Kind::kWiener) {
    return Fail(t.pos, absl::StrCat("'", Sv(s), "' is a Wiener process: write its increment d",
                                    Sv(s), " in a noise line (noise x = ... * d", Sv(s), ")"));
  }
  if (!in_noise_) {
    return Fail(t.pos, absl::StrCat("'", Sv(s),
                                    "' is a Wiener increment: it may appear only in a noise line "
                                    "(noise x = ... * ",
                                    Sv(s), ")"));
  }
  if (increment_pos_[sym.index].line == kUnset) increment_pos_[sym.index] = t.pos;
  return g_->Param(kIncrementParamBase + sym.index);
}

// noise x = expr
void Parser::Noise() {
  Next();  // the keyword
  const Token& name = Next();
  if (name.kind != Tok::kIdent) {
    Unexpected(name, "a state name after 'noise'");
    return;
  }
  auto it = syms_.find(name.text);
  if (it == syms_.end()) {
    Fail(name.pos,
         absl::StrCat("noise for undefined name '", Sv(name.text), "'", Suggest(name.text)));
    return;
  }
  const Symbol sym = it->second;
  if (sym.kind != Kind::kState) {
    Fail(name.pos, absl::StrCat("noise for '", Sv(name.text), "', which is ", WithArticle(sym.kind),
                                ": only states have noise"));
    return;
  }
  noise_pos_.resize(m_.state_names.size(), Pos{kUnset, kUnset});
  if (noise_pos_[sym.index].line != kUnset) {
    const Pos first = noise_pos_[sym.index];
    Fail(name.pos, absl::StrCat("duplicate noise for '", Sv(name.text), "' (first at line ",
                                first.line, ", column ", first.column, ")"));
    return;
  }
  const Token& eq = Next();
  if (eq.kind != Tok::kAssign) {
    Unexpected(eq, absl::StrCat("'=' after noise ", Sv(name.text)));
    return;
  }
  SkipNewlines();
  const Pos start = Peek().pos;
  in_noise_ = true;
  increment_pos_.assign(m_.num_wiener, Pos{kUnset, kUnset});
  const NodeId value = Expr();
  in_noise_ = false;
  if (!ok()) return;
  noise_pos_[sym.index] = name.pos;

  const Shape shape = Classify(m_.graph, value);
  const std::string state(name.text);
  if (shape.form == Form::kBad) {
    if (shape.mixed) {
      Fail(start, absl::StrCat("the noise of '", state,
                               "' mixes terms with and without Wiener increments: write every "
                               "term as coefficient * dW (drift belongs in ",
                               state, "' = ...)"));
      return;
    }
    const std::string incr = absl::StrCat("d", m_.wiener_names[shape.increment]);
    Fail(
        increment_pos_[shape.increment],
        absl::StrCat("the noise of '", state,
                     "' must be linear in the Wiener increments (a sum of coefficient * dW "
                     "terms): '",
                     incr, "' ", shape.why != nullptr ? std::string(shape.why) : Inside(shape.op)));
    return;
  }
  if (FreeOrZero(shape.form)) {
    // Diagonal noise: a Wiener process of this state's own.
    if (m_.num_wiener >= limits_.max_wieners) {
      Fail(name.pos, absl::StrCat("too many Wiener processes (limit max_wieners = ",
                                  limits_.max_wieners, ")"));
      return;
    }
    m_.wiener_names.push_back(absl::StrCat("(", state, ")"));
    m_.noise.push_back({sym.index, m_.num_wiener++, value});
    return;
  }
  for (int k = 0; k < static_cast<int>(increment_pos_.size()); ++k) {
    if (increment_pos_[k].line == kUnset) continue;
    ir::Differentiator d(m_.graph, ir::Var::Param(kIncrementParamBase + k), limits_.max_nodes);
    const NodeId coef = d.Derive(value);
    if (coef == kNoNode) {
      Fail(name.pos, absl::StrCat("the model needs more IR nodes than the limit max_nodes = ",
                                  limits_.max_nodes));
      return;
    }
    if (m_.graph.IsConstantEqual(coef, 0.0)) continue;
    m_.noise.push_back({sym.index, k, coef});
  }
}

}  // namespace ensolve::model_internal
