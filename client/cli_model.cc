#include "client/cli_model.h"

#include <cctype>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/model/model.h"

namespace ensolve {
namespace {

// Parses the leading "line L, column C: " of a message.
bool SplitPosition(absl::string_view message, int* line, int* column, absl::string_view* rest) {
  if (!absl::ConsumePrefix(&message, "line ")) return false;
  const size_t comma = message.find(", column ");
  if (comma == absl::string_view::npos || !absl::SimpleAtoi(message.substr(0, comma), line)) {
    return false;
  }
  message.remove_prefix(comma + 9);
  const size_t colon = message.find(": ");
  const absl::string_view col = message.substr(0, colon);
  if (!absl::SimpleAtoi(col, column)) return false;
  *rest = colon == absl::string_view::npos ? absl::string_view() : message.substr(colon + 2);
  return true;
}

// Hints for what users coming from Python or paper notation often write.
std::vector<std::string> Hints(absl::string_view text, int column, absl::string_view what) {
  std::vector<std::string> hints;
  if (!absl::StartsWith(what, "unexpected ")) return hints;
  // Implicit multiplication ("2x", "2 k", "2(x+1)", ")("): a value followed by another
  // where an operator could have come next, at the end of an expression.
  const bool at_expression_end = absl::StrContains(what, "expected end of line") ||
                                 absl::StrContains(what, "expected ')'") ||
                                 absl::StrContains(what, "expected ',' or ')'");
  const bool value_next = absl::StartsWith(what, "unexpected name") ||
                          absl::StartsWith(what, "unexpected number") ||
                          absl::StartsWith(what, "unexpected '('");
  const size_t at = static_cast<size_t>(column - 1);
  if (at_expression_end && value_next && at > 0 && at < text.size()) {
    size_t before = at;
    while (before > 0 && text[before - 1] == ' ') --before;
    const char prev = before > 0 ? text[before - 1] : ' ';
    if (std::isalnum(static_cast<unsigned char>(prev)) || prev == '_' || prev == ')') {
      hints.push_back(absl::StrCat("multiplication is written out: ", text.substr(0, before), "*",
                                   text.substr(at)));
    }
  }
  if (absl::StrContains(text, "**")) hints.push_back("powers are written x^2 (not x**2)");
  return hints;
}

}  // namespace

std::string FormatModelError(absl::string_view path, absl::string_view source,
                             absl::string_view message) {
  int line = 0, column = 0;
  absl::string_view what;
  if (!SplitPosition(message, &line, &column, &what)) return absl::StrCat(path, ": ", message);
  std::string out = absl::StrCat(path, ":", line, ":", column, ": ", what);
  std::vector<absl::string_view> lines = absl::StrSplit(source, '\n');
  if (line < 1 || line > static_cast<int>(lines.size())) return out;
  absl::string_view text = lines[line - 1];
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  std::string caret;
  for (int i = 0; i + 1 < column; ++i) {
    caret.push_back(i < static_cast<int>(text.size()) && text[i] == '\t' ? '\t' : ' ');
  }
  absl::StrAppend(&out, "\n    ", text, "\n    ", caret, "^");
  for (const std::string& hint : Hints(text, column, what)) absl::StrAppend(&out, "\nhint: ", hint);
  return out;
}

absl::StatusOr<ModelFile> LoadModelFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  ModelFile m;
  m.path = path;
  m.source.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  absl::StatusOr<std::unique_ptr<Model>> parsed = Model::Parse(m.source);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(FormatModelError(path, m.source, parsed.status().message()));
  }
  const Model& model = **parsed;
  m.id = model.hash();
  m.state_names = model.state_names();
  m.param_names = model.param_names();
  m.output_names = model.output_names();
  m.state_defaults = model.state_defaults();
  m.param_defaults = model.param_defaults();
  return m;
}

}  // namespace ensolve
