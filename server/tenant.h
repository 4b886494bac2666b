// Tenants: who a call is from. This is the one place a call's tenant is decided.
//
// Without a tokens file every caller is the tenant "default" (per-request limits still
// apply to each request). With one (--tokens_file), every call to ensolve.v1.EnsembleSolver
// must carry `authorization: Bearer <token>` metadata with a token of the file;
// missing or unknown is UNAUTHENTICATED. The grpc.health.v1 service needs no token
// (liveness probes). The file holds one "token tenant" pair per line; blank lines and
// lines starting with '#' are ignored. Reload() (SIGHUP) re-reads it.
//
// Thread-safety: every method is safe to call concurrently.
#ifndef ENSOLVE_SERVER_TENANT_H_
#define ENSOLVE_SERVER_TENANT_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"

namespace ensolve::server {

inline constexpr char kDefaultTenant[] = "default";

// token -> tenant, from the text of a tokens file. INVALID_ARGUMENT names the bad line.
absl::StatusOr<absl::flat_hash_map<std::string, std::string>> ParseTokens(absl::string_view text);

class TenantResolver {
 public:
  // `tokens_file` empty: no authentication. Otherwise the file must parse.
  static absl::StatusOr<std::unique_ptr<TenantResolver>> Create(std::string tokens_file);

  bool authenticates() const { return !file_.empty(); }
  // The tenant for the value of a call's `authorization` header (null: there was none).
  absl::StatusOr<std::string> ForAuthorization(const std::string* authorization) const;
  // The tenant of `call`.
  absl::StatusOr<std::string> ForCall(const grpc::CallbackServerContext& call) const;
  // Re-reads the tokens file; on error keeps the tokens it had and says why.
  absl::Status Reload();
  int num_tokens() const;

 private:
  explicit TenantResolver(std::string file) : file_(std::move(file)) {}
  const std::string file_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> tenant_by_token_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_TENANT_H_
