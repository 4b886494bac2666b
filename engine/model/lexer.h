// Tokenizer for the model language (docs/model-language.md).
#ifndef ENSOLVE_ENGINE_MODEL_LEXER_H_
#define ENSOLVE_ENGINE_MODEL_LEXER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ensolve::model_internal {

enum class Tok {
  kIdent,
  kNumber,
  kPrime,    // '
  kComma,    // ,
  kColon,    // :
  kAssign,   // =
  kLParen,   // (
  kRParen,   // )
  kPlus,     // +
  kMinus,    // -
  kStar,     // *
  kSlash,    // /
  kCaret,    // ^
  kLt,       // <
  kLe,       // <=
  kGt,       // >
  kGe,       // >=
  kEq,       // ==
  kNe,       // !=
  kAnd,      // &&
  kOr,       // ||
  kNot,      // !
  kNewline,  // end of a line
  kEnd,      // end of input
};

struct Pos {
  int line = 1;
  int column = 1;  // 1-based, in bytes
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string_view text;  // points into the source
  Pos pos;
  double number = 0;  // kNumber
};

// This Abseil build has its own string_view type; StrCat arguments go through this.
inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// "line L, column C: " (the prefix of every model error).
std::string PosPrefix(Pos pos);
// How a token is named in messages: "name 'x'", "number '1.5'", "'('", "end of line".
std::string Describe(const Token& tok);

// Splits `source` into tokens; the last one is kEnd. Comments are dropped; each line
// ends in a kNewline. Errors (unexpected character, malformed or out-of-range number, a
// name or number longer than `max_token_length` bytes) are INVALID_ARGUMENT with the
// position.
absl::StatusOr<std::vector<Token>> Lex(std::string_view source, int max_token_length = 128);

}  // namespace ensolve::model_internal

#endif  // ENSOLVE_ENGINE_MODEL_LEXER_H_
