// The fixed vocabulary of the model language: built-in functions, keywords, constants,
// and "did you mean" suggestions for misspelled names.
#ifndef ENSOLVE_ENGINE_MODEL_NAMES_H_
#define ENSOLVE_ENGINE_MODEL_NAMES_H_

#include <string>
#include <string_view>
#include <vector>

#include "engine/ir/graph.h"

namespace ensolve::model_internal {

struct Function {
  std::string_view name;
  ir::Op op;
  int arity;
};

// The built-in function called `name`, or null.
const Function* FindFunction(std::string_view name);
// All built-in functions, in documentation order.
const std::vector<Function>& Functions();

// Statement keywords: state, param, let, output, noise, wiener, and the event words when,
// at, terminate.
bool IsStatementKeyword(std::string_view name);
// Keywords reserved for features still to come (event): the feature they belong to
// ("named events"), or null for any other name.
const char* ReservedFeature(std::string_view name);

// Levenshtein distance.
int EditDistance(std::string_view a, std::string_view b);
// min(EditDistance(a, b), limit + 1), in O(max(|a|, |b|) x (2 limit + 1)).
int BoundedEditDistance(std::string_view a, std::string_view b, int limit);
// The candidate closest to `name` if it is near enough to be a plausible typo (one edit
// for names of 2 to 4 characters, two for 5 or more); "" if none.
std::string ClosestName(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace ensolve::model_internal

#endif  // ENSOLVE_ENGINE_MODEL_NAMES_H_
