#include "server/tls.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace ensolve::server {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("--", flag, ": cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(
    const ServerConfig& c) {
  if (c.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  absl::StatusOr<std::string> cert = ReadPem(c.tls_cert_file, "tls_cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(c.tls_key_file, "tls_key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions o;
  o.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  if (!c.tls_client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(c.tls_client_ca_file, "tls_client_ca");
    if (!ca.ok()) return ca.status();
    o.pem_root_certs = *std::move(ca);
    o.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(o);
}

std::string TlsMode(const ServerConfig& c) {
  if (c.tls_cert_file.empty()) return "off";
  return c.tls_client_ca_file.empty() ? "tls" : "mutual";
}

}  // namespace ensolve::server
