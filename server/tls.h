// The gRPC listener's credentials: plaintext, TLS (--tls_cert, --tls_key), or mutual TLS
// that requires and verifies client certificates (--tls_client_ca).
#ifndef ENSOLVE_SERVER_TLS_H_
#define ENSOLVE_SERVER_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/server_credentials.h"
#include "server/config.h"

namespace ensolve::server {

// NOT_FOUND names a file that cannot be read (by its flag).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(
    const ServerConfig& config);
// "off", "tls" or "mutual", for the log.
std::string TlsMode(const ServerConfig& config);

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_TLS_H_
