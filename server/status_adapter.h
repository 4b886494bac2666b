// The one place where engine statuses (absl::Status) become gRPC statuses.
#ifndef ENSOLVE_SERVER_STATUS_ADAPTER_H_
#define ENSOLVE_SERVER_STATUS_ADAPTER_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace ensolve::server {

// Maps `status` to the gRPC status with the same code and message. Codes that mean a bug
// (INTERNAL, UNKNOWN, DATA_LOSS) are logged with `context` (e.g. the method and job id).
grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view context = "");

// The reverse, for code shared with the client side.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Lower-case name of a gRPC code ("ok", "invalid_argument", ...), for metric labels.
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_STATUS_ADAPTER_H_
