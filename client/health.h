// The grpc.health.v1 check of an ensolved, as Kubernetes' gRPC probes and the container's
// HEALTHCHECK (`ensolve health`) ask it.
#ifndef ENSOLVE_CLIENT_HEALTH_H_
#define ENSOLVE_CLIENT_HEALTH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/credentials.h"

namespace ensolve {

// The serving status of `service` ("" = the whole server; ensolved also answers for
// "ensolve.v1.EnsembleSolver") at `target`: "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN", or
// the call's error (UNAVAILABLE when nothing listens, DEADLINE_EXCEEDED after `timeout`).
absl::StatusOr<std::string> CheckHealth(const std::string& target, const std::string& service,
                                        absl::Duration timeout, const TlsOptions& tls = {});

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_HEALTH_H_
