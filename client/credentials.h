// Channel credentials for clients of ensolved: plaintext, or TLS with the server's CA
// (and, for servers that require client certificates, this client's certificate and key).
//
// Thread-safety: plain functions and values.
#ifndef ENSOLVE_CLIENT_CREDENTIALS_H_
#define ENSOLVE_CLIENT_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"

namespace ensolve {

struct TlsOptions {
  bool enabled = false;
  std::string root_certs;   // PEM of the CA that signed the server's certificate; empty:
                            // the system's roots
  std::string cert_chain;   // PEM of this client's certificate (mutual TLS), or empty
  std::string private_key;  // PEM of its key
};

// TLS options from files (each may be empty: not given). Any file given enables TLS.
// NOT_FOUND names a file that cannot be read; INVALID_ARGUMENT a certificate without its
// key or a key without its certificate.
absl::StatusOr<TlsOptions> TlsFromFiles(const std::string& ca_file, const std::string& cert_file,
                                        const std::string& key_file);

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsOptions& tls);

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_CREDENTIALS_H_
