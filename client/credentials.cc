#include "client/credentials.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace ensolve {
namespace {

absl::Status ReadInto(const std::string& path, const char* what, std::string* out) {
  if (path.empty()) return absl::OkStatus();
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the ", what, " file ", path));
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TlsOptions> TlsFromFiles(const std::string& ca_file, const std::string& cert_file,
                                        const std::string& key_file) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs its key and a key its certificate (give both or neither)");
  }
  TlsOptions tls;
  tls.enabled = !ca_file.empty() || !cert_file.empty();
  if (absl::Status s = ReadInto(ca_file, "CA certificate", &tls.root_certs); !s.ok()) return s;
  if (absl::Status s = ReadInto(cert_file, "client certificate", &tls.cert_chain); !s.ok()) {
    return s;
  }
  if (absl::Status s = ReadInto(key_file, "client key", &tls.private_key); !s.ok()) return s;
  return tls;
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsOptions& tls) {
  if (!tls.enabled) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = tls.root_certs;
  o.pem_cert_chain = tls.cert_chain;
  o.pem_private_key = tls.private_key;
  return grpc::SslCredentials(o);
}

}  // namespace ensolve
