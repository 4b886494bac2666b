#include "engine/model/names.h"

#include <algorithm>
#include <cstdlib>

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
  return name == "state" || name == "param" || name == "let" || name == "output" ||
         name == "noise" || name == "wiener" || name == "when" || name == "at" ||
         name == "terminate";
}

const char* ReservedFeature(std::string_view name) {
  if (name == "event") return "named events";
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
  // A suggestion is at most two edits away, so only a band of 2 x 2 + 1 cells per row of
  // the distance table matters: the cost is O(len x 5) per candidate, not O(len^2), and
  // names are capped (ModelLimits::max_identifier_length) besides.
  constexpr int kMaxEdits = 2;
  int best = kMaxEdits + 1;
  std::string_view found;
  for (std::string_view c : candidates) {
    // Cheap reject: the length difference bounds the distance from below.
    const int len_diff = static_cast<int>(c.size()) - static_cast<int>(name.size());
    if (len_diff >= best || -len_diff >= best) continue;
    const int d = BoundedEditDistance(name, c, best - 1);
    // One typo in a short name, two in a longer one.
    if (d < best && 3 * d <= static_cast<int>(name.size()) + 1) {
      best = d;
      found = c;
    }
  }
  return std::string(found);
}

int BoundedEditDistance(std::string_view a, std::string_view b, int limit) {
  const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
  const int big = limit + 1;
  if (std::abs(n - m) > limit) return big;
  // Only cells with |i - j| <= limit can hold a distance <= limit: band[d] is cell
  // (i, j = i + d - limit) of the distance table's current row.
  const int width = 2 * limit + 1;
  std::vector<int> prev(static_cast<size_t>(width)), cur(static_cast<size_t>(width));
  for (int d = 0; d < width; ++d) {
    const int j = d - limit;
    prev[d] = j >= 0 && j <= m ? j : big;
  }
  for (int i = 1; i <= n; ++i) {
    int row_min = big;
    for (int d = 0; d < width; ++d) {
      const int j = i + d - limit;
      int v = big;
      if (j == 0) {
        v = i;
      } else if (j > 0 && j <= m) {
        const int sub = prev[d] + (a[i - 1] == b[j - 1] ? 0 : 1);
        const int del = d + 1 < width ? prev[d + 1] + 1 : big;
        const int ins = d > 0 ? cur[d - 1] + 1 : big;
        v = std::min({sub, del, ins});
      }
      cur[d] = std::min(v, big);
      row_min = std::min(row_min, cur[d]);
    }
    if (row_min >= big) return big;
    std::swap(prev, cur);
  }
  return prev[m - n + limit];
}

}  // namespace ensolve::model_internal
