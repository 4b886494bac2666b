#include "engine/model/names.h"

#include <algorithm>

namespace ensolve::model_internal {

using ir::Op;

const std::vector<Function>& Functions() {
  static const auto* const kFunctions = new std::vector<Function>{
      {"sin", Op::kSin, 1},       {"cos", Op::kCos, 1},   {"tan", Op::kTan, 1},
      {"asin", Op::kAsin, 1},     {"acos", Op::kAcos, 1}, {"atan", Op::kAtan, 1},
      {"atan2", Op::kAtan2, 2},   {"sinh", Op::kSinh, 1}, {"cosh", Op::kCosh, 1},
      {"tanh", Op::kTanh, 1},     {"exp", Op::kExp, 1},   {"log", Op::kLog, 1},
      {"log10", Op::kLog10, 1},   {"sqrt", Op::kSqrt, 1}, {"abs", Op::kAbs, 1},
      {"min", Op::kMin, 2},       {"max", Op::kMax, 2},   {"pow", Op::kPow, 2},
      {"floor", Op::kFloor, 1},   {"ceil", Op::kCeil, 1}, {"sign", Op::kSign, 1},
      {"ifelse", Op::kIfElse, 3},
  };
  return *kFunctions;
}

const Function* FindFunction(std::string_view name) {
  for (const Function& f : Functions()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool IsStatementKeyword(std::string_view name) {
  return name == "state" || name == "param" || name == "let" || name == "output";
}

const char* ReservedFeature(std::string_view name) {
  if (name == "event" || name == "when" || name == "at" || name == "terminate") {
    return "events";
  }
  if (name == "noise") return "SDE noise terms";
  return nullptr;
}

int EditDistance(std::string_view a, std::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diag = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string ClosestName(std::string_view name, const std::vector<std::string_view>& candidates) {
  int best = 3;
  std::string_view found;
  for (std::string_view c : candidates) {
    // Cheap reject: the length difference bounds the distance from below.
    const int len_diff = static_cast<int>(c.size()) - static_cast<int>(name.size());
    if (len_diff >= best || -len_diff >= best) continue;
    const int d = EditDistance(name, c);
    // One typo in a short name, two in a longer one.
    if (d < best && 3 * d <= static_cast<int>(name.size()) + 1) {
      best = d;
      found = c;
    }
  }
  return std::string(found);
}

}  // namespace ensolve::model_internal
