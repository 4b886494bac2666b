// ensolved's command-line flags. Each flag --name may also be set by the environment
// variable ENSOLVE_NAME (upper case); the command line wins over the environment.
#ifndef ENSOLVE_SERVER_FLAGS_H_
#define ENSOLVE_SERVER_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/config.h"

namespace ensolve::server {

// The ENSOLVE_* variables of `environ` that are neither a flag nor one of the documented
// tuning variables (ENSOLVE_NVRTC, ENSOLVE_CUDA_PINNED, ...): probably typos, to warn about.
std::vector<std::string> UnknownEnvironmentVariables(char** environ);

// Prints what --help/--helpshort (ensolved's flags) or --helpfull (all) ask for to stdout
// and returns true; Abseil's own handling exits 1. Also sets what --version prints.
bool HandleHelp(int argc, char** argv);

// Checks every --flag of argv before Abseil parses it (Abseil exits 1 on a bad one; a
// usage error is exit 2 here). INVALID_ARGUMENT names the first offender.
absl::Status CheckCommandLine(int argc, char** argv);

// Applies ENSOLVE_* environment variables to the flags. Call before parsing the command
// line. INVALID_ARGUMENT names the variable with a bad value.
absl::Status ApplyEnvironmentToFlags();

// The configuration the flags describe (after parsing). INVALID_ARGUMENT for bad values.
absl::StatusOr<ServerConfig> ConfigFromFlags();

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_FLAGS_H_
