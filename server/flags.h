// ensolved's command-line flags. Each flag --name may also be set by the environment
// variable ENSOLVE_NAME (upper case); the command line wins over the environment.
#ifndef ENSOLVE_SERVER_FLAGS_H_
#define ENSOLVE_SERVER_FLAGS_H_

#include "absl/status/statusor.h"
#include "server/config.h"

namespace ensolve::server {

// Applies ENSOLVE_* environment variables to the flags. Call before parsing the command
// line. INVALID_ARGUMENT names the variable with a bad value.
absl::Status ApplyEnvironmentToFlags();

// The configuration the flags describe (after parsing). INVALID_ARGUMENT for bad values.
absl::StatusOr<ServerConfig> ConfigFromFlags();

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_FLAGS_H_
