#include "engine/model/parser.h"

#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/model/names.h"

namespace ensolve::model_internal {
namespace {

using ir::kNoNode;
using ir::NodeId;
using ir::Op;

constexpr double kPi = 3.14159265358979323846;

enum class Kind { kState, kParam, kLet, kOutput };

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
  }
  return "?";
}

// "a state", "an output", ...
std::string WithArticle(Kind k) {
  return absl::StrCat(k == Kind::kOutput ? "an " : "a ", KindName(k));
}

struct Symbol {
  Symbol(Kind k, int i, NodeId n = kNoNode) : kind(k), index(i), node(n) {}
  Kind kind;
  int index;    // state / param / output number
  NodeId node;  // let / output value
  Pos pos;      // where it was declared (set by Declare)
};

class Parser {
 public:
  Parser(std::vector<Token> toks, const ModelLimits& limits, ParsedModel* out)
      : toks_(std::move(toks)), limits_(limits), m_(*out) {}

  absl::Status Run();

 private:
  // Token access. Inside parentheses a line break is just white space.
  const Token& Peek() {
    while (paren_ > 0 && toks_[pos_].kind == Tok::kNewline) ++pos_;
    return toks_[pos_];
  }
  const Token& Next() {
    const Token& t = Peek();
    if (t.kind != Tok::kEnd) ++pos_;
    return t;
  }
  // A line that ends in a binary operator (or '=', or ',' in a declaration list)
  // continues on the next.
  void SkipNewlines() {
    while (toks_[pos_].kind == Tok::kNewline) ++pos_;
  }
  const Token& PeekAhead(int k) {  // raw look-ahead, for statement dispatch
    const size_t i = std::min(pos_ + k, toks_.size() - 1);
    return toks_[i];
  }

  bool ok() const { return error_.ok(); }
  NodeId Fail(Pos pos, std::string msg) {
    if (error_.ok()) error_ = absl::InvalidArgumentError(PosPrefix(pos) + msg);
    return kNoNode;
  }
  NodeId Unexpected(const Token& tok, std::string_view expected) {
    return Fail(tok.pos, absl::StrCat("unexpected ", Describe(tok), ": expected ", Sv(expected)));
  }

  // Statements.
  void Statement();
  void Declarations(Kind kind);
  void Let(Kind kind);  // let or output
  void Equation();
  bool CheckNewName(const Token& name);
  void Declare(const Token& name, Symbol sym);

  // Expressions, lowest precedence first.
  NodeId Expr() { return Or(); }
  NodeId Or();
  NodeId And();
  NodeId Comparison();
  NodeId Sum();
  NodeId Product();
  NodeId Unary();
  NodeId Power();
  NodeId Primary();
  NodeId Name(const Token& tok);
  NodeId Call(const Token& name);
  // Constant expression for a default; NaN (with the error set) on failure.
  double ConstantExpr(std::string_view what, const Token& name);

  // Nesting guard: parentheses, calls, unary operators and '^' each count one level.
  bool Enter(const Token& at) {
    if (++depth_ > limits_.max_depth) {
      Fail(at.pos,
           absl::StrCat("expression nesting exceeds the limit max_depth = ", limits_.max_depth));
      return false;
    }
    return true;
  }
  void Leave() { --depth_; }

  std::string Suggest(std::string_view name) const;

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int paren_ = 0;
  int depth_ = 0;
  const ModelLimits& limits_;
  ParsedModel& m_;
  ir::Graph scratch_;           // defaults are folded here, not in the model graph
  ir::Graph* g_ = &m_.graph;    // where expressions are built
  bool constant_only_ = false;  // parsing a default
  std::unordered_map<std::string_view, Symbol> syms_;
  std::vector<std::string_view> sym_order_;  // for suggestions, in declaration order
  std::vector<Pos> state_pos_;
  absl::Status error_;
};

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
    double value = 0;
    if (Peek().kind == Tok::kAssign) {
      Next();
      SkipNewlines();
      value = ConstantExpr(KindName(kind), name);
      if (!ok()) return;
    }
    if (kind == Kind::kState) {
      if (static_cast<int>(m_.state_names.size()) >= limits_.max_states) {
        Fail(name.pos,
             absl::StrCat("too many states (limit max_states = ", limits_.max_states, ")"));
        return;
      }
      Declare(name, Symbol{kind, static_cast<int>(m_.state_names.size())});
      m_.state_names.emplace_back(name.text);
      m_.state_defaults.push_back(value);
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

double Parser::ConstantExpr(std::string_view what, const Token& name) {
  const Token& start = Peek();
  constant_only_ = true;
  g_ = &scratch_;
  const NodeId id = Expr();
  constant_only_ = false;
  g_ = &m_.graph;
  if (!ok()) return std::nan("");
  double v = 0;
  if (!scratch_.IsConstant(id, &v)) {  // cannot happen: only constants are admitted
    Fail(start.pos, "a default must be a constant expression");
    return std::nan("");
  }
  if (!std::isfinite(v)) {
    Fail(start.pos, absl::StrCat("the default of ", Sv(what), " '", Sv(name.text),
                                 "' is not finite (", v, ")"));
    return std::nan("");
  }
  return v;
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

NodeId Parser::Or() {
  NodeId l = And();
  while (ok() && Peek().kind == Tok::kOr) {
    Next();
    SkipNewlines();
    const NodeId r = And();
    if (!ok()) return kNoNode;
    l = g_->Binary(Op::kOr, l, r);
  }
  return l;
}

NodeId Parser::And() {
  NodeId l = Comparison();
  while (ok() && Peek().kind == Tok::kAnd) {
    Next();
    SkipNewlines();
    const NodeId r = Comparison();
    if (!ok()) return kNoNode;
    l = g_->Binary(Op::kAnd, l, r);
  }
  return l;
}

bool IsComparison(Tok k, Op* op) {
  switch (k) {
    case Tok::kLt:
      *op = Op::kLt;
      return true;
    case Tok::kLe:
      *op = Op::kLe;
      return true;
    case Tok::kGt:
      *op = Op::kGt;
      return true;
    case Tok::kGe:
      *op = Op::kGe;
      return true;
    case Tok::kEq:
      *op = Op::kEq;
      return true;
    case Tok::kNe:
      *op = Op::kNe;
      return true;
    default:
      return false;
  }
}

// Comparisons do not chain: "a < b < c" is an error, not (a < b) < c.
NodeId Parser::Comparison() {
  const NodeId l = Sum();
  Op op;
  if (!ok() || !IsComparison(Peek().kind, &op)) return l;
  Next();
  SkipNewlines();
  const NodeId r = Sum();
  if (!ok()) return kNoNode;
  Op again;
  if (IsComparison(Peek().kind, &again)) {
    return Fail(Peek().pos, absl::StrCat("unexpected ", Describe(Peek()),
                                         ": comparisons cannot be chained (write a < b && b < c)"));
  }
  return g_->Binary(op, l, r);
}

NodeId Parser::Sum() {
  NodeId l = Product();
  while (ok() && (Peek().kind == Tok::kPlus || Peek().kind == Tok::kMinus)) {
    const Op op = Next().kind == Tok::kPlus ? Op::kAdd : Op::kSub;
    SkipNewlines();
    const NodeId r = Product();
    if (!ok()) return kNoNode;
    l = g_->Binary(op, l, r);
  }
  return l;
}

NodeId Parser::Product() {
  NodeId l = Unary();
  while (ok() && (Peek().kind == Tok::kStar || Peek().kind == Tok::kSlash)) {
    const Op op = Next().kind == Tok::kStar ? Op::kMul : Op::kDiv;
    SkipNewlines();
    const NodeId r = Unary();
    if (!ok()) return kNoNode;
    l = g_->Binary(op, l, r);
  }
  return l;
}

// Prefix operators bind looser than '^': -x^2 is -(x^2).
NodeId Parser::Unary() {
  const Token& t = Peek();
  if (t.kind != Tok::kMinus && t.kind != Tok::kPlus && t.kind != Tok::kNot) return Power();
  if (!Enter(t)) return kNoNode;
  Next();
  NodeId x = Unary();
  Leave();
  if (!ok()) return kNoNode;
  if (t.kind == Tok::kMinus) return g_->Unary(Op::kNeg, x);
  if (t.kind == Tok::kNot) return g_->Unary(Op::kNot, x);
  return x;
}

// '^' is right-associative and its exponent may carry a sign: 2^-x^2 is 2^(-(x^2)).
NodeId Parser::Power() {
  const NodeId base = Primary();
  if (!ok() || Peek().kind != Tok::kCaret) return base;
  const Token& caret = Next();
  if (!Enter(caret)) return kNoNode;
  SkipNewlines();
  const NodeId exponent = Unary();
  Leave();
  if (!ok()) return kNoNode;
  return g_->Binary(Op::kPow, base, exponent);
}

NodeId Parser::Primary() {
  const Token& t = Next();
  switch (t.kind) {
    case Tok::kNumber:
      return g_->Constant(t.number);
    case Tok::kIdent:
      if (Peek().kind == Tok::kLParen && ReservedFeature(t.text) == nullptr) return Call(t);
      return Name(t);
    case Tok::kLParen: {
      if (!Enter(t)) return kNoNode;
      ++paren_;
      const NodeId x = Expr();
      if (ok()) {
        const Token& close = Peek();
        if (close.kind != Tok::kRParen) {
          Unexpected(close, absl::StrCat("')' to close the '(' at line ", t.pos.line, ", column ",
                                         t.pos.column));
        }
      }
      --paren_;
      Leave();
      if (!ok()) return kNoNode;
      Next();
      return x;
    }
    default:
      return Unexpected(t, "an expression");
  }
}

NodeId Parser::Name(const Token& t) {
  const std::string_view s = t.text;
  if (const char* feature = ReservedFeature(s)) {
    return Fail(t.pos,
                absl::StrCat("'", Sv(s), "' is not supported yet (reserved for ", feature, ")"));
  }
  if (s == "pi") return g_->Constant(kPi);
  const char* const kConstOnly =
      ": a default must be a constant expression (numbers, functions, pi and earlier params)";
  if (s == "t") {
    if (constant_only_) return Fail(t.pos, absl::StrCat("'t' is the time variable", kConstOnly));
    return g_->Time();
  }
  if (IsStatementKeyword(s)) return Unexpected(t, "an expression");
  if (FindFunction(s) != nullptr) {
    return Unexpected(Peek(), absl::StrCat("'(' after the function name '", Sv(s), "'"));
  }
  auto it = syms_.find(s);
  if (it == syms_.end()) {
    return Fail(t.pos, absl::StrCat("undefined name '", Sv(s), "'", Suggest(s)));
  }
  const Symbol& sym = it->second;
  if (constant_only_) {
    if (sym.kind == Kind::kParam) return g_->Constant(m_.param_defaults[sym.index]);
    return Fail(t.pos, absl::StrCat("'", Sv(s), "' is ", WithArticle(sym.kind), kConstOnly));
  }
  switch (sym.kind) {
    case Kind::kState:
      return g_->State(sym.index);
    case Kind::kParam:
      return g_->Param(sym.index);
    case Kind::kLet:
    case Kind::kOutput:
      return sym.node;
  }
  return kNoNode;
}

NodeId Parser::Call(const Token& name) {
  const Function* f = FindFunction(name.text);
  if (f == nullptr) {
    if (syms_.count(name.text) != 0 || name.text == "t" || name.text == "pi") {
      return Fail(name.pos, absl::StrCat("'", Sv(name.text), "' is not a function"));
    }
    std::vector<std::string_view> fnames;
    for (const Function& g : Functions()) fnames.push_back(g.name);
    const std::string close = ClosestName(name.text, fnames);
    return Fail(name.pos, absl::StrCat("unknown function '", Sv(name.text), "'",
                                       close.empty() ? "" : " (did you mean '" + close + "'?)"));
  }
  const Token& open = Next();
  if (!Enter(open)) return kNoNode;
  ++paren_;
  std::vector<NodeId> args;
  if (Peek().kind != Tok::kRParen) {
    while (ok()) {
      args.push_back(Expr());
      if (!ok()) break;
      const Token& sep = Peek();
      if (sep.kind == Tok::kComma) {
        Next();
        continue;
      }
      if (sep.kind != Tok::kRParen) {
        Unexpected(sep, absl::StrCat("',' or ')' in the call to '", Sv(name.text), "'"));
      }
      break;
    }
  }
  --paren_;
  Leave();
  if (!ok()) return kNoNode;
  Next();  // ')'
  if (static_cast<int>(args.size()) != f->arity) {
    return Fail(name.pos,
                absl::StrCat("function '", Sv(f->name), "' takes ", f->arity,
                             f->arity == 1 ? " argument" : " arguments", ", got ", args.size()));
  }
  switch (f->arity) {
    case 1:
      return g_->Unary(f->op, args[0]);
    case 2:
      return g_->Binary(f->op, args[0], args[1]);
    default:
      return g_->Ternary(f->op, args[0], args[1], args[2]);
  }
}

std::string Parser::Suggest(std::string_view name) const {
  const std::string close = ClosestName(name, sym_order_);
  return close.empty() ? "" : absl::StrCat(" (did you mean '", close, "'?)");
}

}  // namespace

absl::Status ParseModel(std::string_view source, const ModelLimits& limits, ParsedModel* out) {
  absl::StatusOr<std::vector<Token>> toks = Lex(source);
  if (!toks.ok()) return toks.status();
  return Parser(*std::move(toks), limits, out).Run();
}

}  // namespace ensolve::model_internal
