// Expressions: precedence climbing by recursive descent, with a depth guard.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/model/names.h"
#include "engine/model/parser_internal.h"

namespace ensolve::model_internal {
namespace {

constexpr double kPi = 3.14159265358979323846;

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

}  // namespace

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
      const_rule_ != nullptr
          ? const_rule_
          : ": a default must be a constant expression (numbers, functions, pi and earlier params)";
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
    if (sym.kind == Kind::kParam && const_rule_ == nullptr) {
      return params_free_ ? g_->Param(sym.index) : g_->Constant(m_.param_defaults[sym.index]);
    }
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
    case Kind::kWiener:
    case Kind::kIncrement:
      return IncrementName(t, sym);
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

}  // namespace ensolve::model_internal
