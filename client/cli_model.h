// The ensolve CLI's local view of a model file: parsed on this machine with the engine's
// parser, so `ensolve validate` needs no server and input files and sampler keys can be
// matched to the model's names before a request is sent.
#ifndef ENSOLVE_CLIENT_CLI_MODEL_H_
#define ENSOLVE_CLIENT_CLI_MODEL_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ensolve {

struct ModelFile {
  std::string path, source, id;
  std::vector<std::string> state_names, param_names, output_names;
  std::vector<double> state_defaults, param_defaults;
};

// Reads and parses a model file. A bad model is INVALID_ARGUMENT whose message is
// FormatModelError's text; an unreadable file is NOT_FOUND.
absl::StatusOr<ModelFile> LoadModelFile(const std::string& path);

// Turns a model error ("line L, column C: what") into a compiler-style report:
//
//   lorenz.ode:4:12: unexpected '*': expected an expression
//       y' = x*(rho**2 - z) - y
//                  ^
//   hint: powers are written x^2 (not x**2)
//
// with hints for '**' and for implicit multiplication ("2x", "2(x+1)", ")(").
// A message without a position is returned as "path: message".
std::string FormatModelError(absl::string_view path, absl::string_view source,
                             absl::string_view message);

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_CLI_MODEL_H_
