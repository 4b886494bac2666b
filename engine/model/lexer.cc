#include "engine/model/lexer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ensolve::model_internal {
namespace {

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string ShowChar(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return absl::StrCat("character '", std::string(1, c), "'");
  return absl::StrFormat("byte 0x%02x (only ASCII is allowed outside comments)", u);
}

}  // namespace

std::string PosPrefix(Pos pos) {
  return absl::StrCat("line ", pos.line, ", column ", pos.column, ": ");
}

std::string Describe(const Token& tok) {
  switch (tok.kind) {
    case Tok::kIdent:
      return absl::StrCat("name '", Sv(tok.text), "'");
    case Tok::kNumber:
      return absl::StrCat("number '", Sv(tok.text), "'");
    case Tok::kNewline:
      return "end of line";
    case Tok::kEnd:
      return "end of input";
    default:
      return absl::StrCat("'", Sv(tok.text), "'");
  }
}

absl::StatusOr<std::vector<Token>> Lex(std::string_view src, int max_token_length) {
  const size_t max_len = max_token_length > 0 ? static_cast<size_t>(max_token_length) : 1;
  // Only the start of an over-long token is echoed.
  auto too_long = [&](Pos here, const char* what, size_t begin, size_t len) {
    return absl::InvalidArgumentError(
        absl::StrCat(PosPrefix(here), what, " '", Sv(src.substr(begin, 32)), "...' is ", len,
                     " characters long, over the limit max_identifier_length = ", max_len));
  };
  std::vector<Token> out;
  size_t i = 0;
  Pos pos;
  size_t line_start = 0;
  auto at = [&](size_t k) { return k < src.size() ? src[k] : '\0'; };
  auto emit = [&](Tok kind, size_t begin, size_t len) {
    Token t;
    t.kind = kind;
    t.text = src.substr(begin, len);
    t.pos = Pos{pos.line, static_cast<int>(begin - line_start) + 1};
    out.push_back(t);
  };
  while (i < src.size()) {
    const char c = src[i];
    if (c == '\n') {
      emit(Tok::kNewline, i, 1);
      ++i;
      ++pos.line;
      line_start = i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < src.size() && src[i] != '\n') ++i;
      continue;
    }
    const Pos here{pos.line, static_cast<int>(i - line_start) + 1};
    if (IsIdentStart(c)) {
      size_t j = i + 1;
      while (j < src.size() && IsIdentChar(src[j])) ++j;
      if (j - i > max_len) return too_long(here, "name", i, j - i);
      emit(Tok::kIdent, i, j - i);
      i = j;
      continue;
    }
    if (IsDigit(c) || (c == '.' && IsDigit(at(i + 1)))) {
      size_t j = i;
      while (IsDigit(at(j))) ++j;
      if (at(j) == '.') {
        ++j;
        while (IsDigit(at(j))) ++j;
      }
      if (at(j) == 'e' || at(j) == 'E') {
        size_t k = j + 1;
        if (at(k) == '+' || at(k) == '-') ++k;
        if (!IsDigit(at(k))) {
          while (IsIdentChar(at(k))) ++k;
          return absl::InvalidArgumentError(absl::StrCat(
              PosPrefix(here), "malformed number '", Sv(src.substr(i, std::min(k - i, max_len))),
              "': expected digits after the exponent"));
        }
        while (IsDigit(at(k))) ++k;
        j = k;
      }
      if (j - i > max_len) return too_long(here, "number", i, j - i);
      double v = 0;
      const auto r = std::from_chars(src.data() + i, src.data() + j, v);
      if (r.ec == std::errc::result_out_of_range || !std::isfinite(v)) {
        return absl::InvalidArgumentError(absl::StrCat(PosPrefix(here), "number '",
                                                       Sv(src.substr(i, j - i)),
                                                       "' is out of the range of a double"));
      }
      if (r.ec != std::errc() || r.ptr != src.data() + j) {
        return absl::InvalidArgumentError(
            absl::StrCat(PosPrefix(here), "malformed number '", Sv(src.substr(i, j - i)), "'"));
      }
      emit(Tok::kNumber, i, j - i);
      out.back().number = v;
      i = j;
      continue;
    }
    Tok kind;
    size_t len = 1;
    const char n = at(i + 1);
    switch (c) {
      case '\'':
        kind = Tok::kPrime;
        break;
      case ',':
        kind = Tok::kComma;
        break;
      case ':':
        kind = Tok::kColon;
        break;
      case '(':
        kind = Tok::kLParen;
        break;
      case ')':
        kind = Tok::kRParen;
        break;
      case '+':
        kind = Tok::kPlus;
        break;
      case '-':
        kind = Tok::kMinus;
        break;
      case '*':
        kind = Tok::kStar;
        break;
      case '/':
        kind = Tok::kSlash;
        break;
      case '^':
        kind = Tok::kCaret;
        break;
      case '<':
        kind = n == '=' ? Tok::kLe : Tok::kLt;
        len = n == '=' ? 2 : 1;
        break;
      case '>':
        kind = n == '=' ? Tok::kGe : Tok::kGt;
        len = n == '=' ? 2 : 1;
        break;
      case '=':
        kind = n == '=' ? Tok::kEq : Tok::kAssign;
        len = n == '=' ? 2 : 1;
        break;
      case '!':
        kind = n == '=' ? Tok::kNe : Tok::kNot;
        len = n == '=' ? 2 : 1;
        break;
      case '&':
        if (n != '&') {
          return absl::InvalidArgumentError(
              absl::StrCat(PosPrefix(here), "unexpected character '&': expected '&&'"));
        }
        kind = Tok::kAnd;
        len = 2;
        break;
      case '|':
        if (n != '|') {
          return absl::InvalidArgumentError(
              absl::StrCat(PosPrefix(here), "unexpected character '|': expected '||'"));
        }
        kind = Tok::kOr;
        len = 2;
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat(PosPrefix(here), "unexpected ", ShowChar(c)));
    }
    emit(kind, i, len);
    i += len;
  }
  emit(Tok::kEnd, i, 0);
  return out;
}

}  // namespace ensolve::model_internal
