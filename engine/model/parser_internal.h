// Internal to the model parser: the Parser class, shared by parser.cc (statements) and
// parser_expr.cc (expressions). Not for use elsewhere; see parser.h.
#ifndef ENSOLVE_ENGINE_MODEL_PARSER_INTERNAL_H_
#define ENSOLVE_ENGINE_MODEL_PARSER_INTERNAL_H_

#include <algorithm>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/ir/graph.h"
#include "engine/model/lexer.h"
#include "engine/model/limits.h"
#include "engine/model/parser.h"

namespace ensolve::model_internal {

using ir::kNoNode;
using ir::NodeId;
using ir::Op;

// kWiener: a declared Wiener process W; kIncrement: its increment dW (noise lines only).
enum class Kind { kState, kParam, kLet, kOutput, kWiener, kIncrement };

// "state", "param", "let", "output".
const char* KindName(Kind k);
// "a state", "an output", ...
std::string WithArticle(Kind k);

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
  void Noise();   // noise x = expr   (parser_noise.cc)
  void Wiener();  // wiener W1, W2
  // Events (parser_event.cc).
  bool NewEvent(const Token& keyword, ModelEvent::Kind kind);
  void When();
  void At();
  void Actions();
  bool Assignment(const Token& name);
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
  NodeId IncrementName(const Token& tok, const Symbol& sym);  // a Wiener name in an expression
  // Constant expression for a default, built in m_.init_graph; kNoNode (with the error set)
  // on failure. With `params_free`, parameters stay symbolic (a state's default may depend
  // on each trajectory's parameters); otherwise they fold to their defaults.
  NodeId ConstantExpr(std::string_view what, const Token& name, bool params_free);

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
  ir::Graph* g_ = &m_.graph;    // where expressions are built
  bool constant_only_ = false;  // parsing a default
  bool params_free_ = false;    // ... of a state: parameters stay symbolic
  // With constant_only_: why a name is refused (null: the defaults' rule), and then
  // parameters are refused too (event times).
  const char* const_rule_ = nullptr;
  int event_times_ = 0;          // of every `at` statement so far
  std::vector<Pos> assign_pos_;  // of the current event's assignments
  std::unordered_map<std::string_view, Symbol> syms_;
  std::vector<std::string_view> sym_order_;  // for suggestions, in declaration order
  std::vector<Pos> state_pos_;
  // While a noise line's expression is parsed: increments are allowed, and where each was
  // first used (for errors).
  bool in_noise_ = false;
  std::vector<Pos> increment_pos_;
  std::vector<Pos> noise_pos_;               // each state's noise line; line 0: none yet
  std::deque<std::string> increment_names_;  // "dW1" for Wiener process k (stable storage)
  absl::Status error_;
};

}  // namespace ensolve::model_internal

#endif  // ENSOLVE_ENGINE_MODEL_PARSER_INTERNAL_H_
