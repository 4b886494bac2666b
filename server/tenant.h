// Tenants: who a call is from. This is the one place a call's tenant is decided.
//
// Without a tokens file every caller is the tenant "default" (per-request limits still
// apply to each request). With one (--tokens_file), every call to ensolve.v1.EnsembleSolver
// must carry `authorization: Bearer <token>` metadata with a token of the file;
// missing or unknown is UNAUTHENTICATED. The grpc.health.v1 service needs no token
// (liveness probes). The file holds one "token tenant [weight=W] [priority=P] [caps=C,...]"
// line per token; blank lines and lines starting with '#' are ignored. A tenant's share of
// the devices (fair_queue.h) is its weight (default 1, > 0) and priority level (default 0,
// higher first); its capabilities (below) are what it may call (default: all). A tenant
// with several tokens gives each of these once or the same on each line.
// Reload() (SIGHUP) re-reads it.
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
#include "server/fair_queue.h"

namespace ensolve::server {

inline constexpr char kDefaultTenant[] = "default";

// What a tenant may call; PERMISSION_DENIED otherwise.
enum Capability : uint32_t {
  kCapSolve = 1,     // "solve": Solve, CompileModel
  kCapDetached = 2,  // "detached": SubmitJob, WatchJob, CancelJob, ListJobs
  kCapRaw = 4,       // "raw": a SolveRequest.raw_kernel (CUDA source run with the server's rights)
};
inline constexpr uint32_t kAllCapabilities = kCapSolve | kCapDetached | kCapRaw;
// What a tenant without caps= on its tokens line may do: everything but raw kernels.
inline constexpr uint32_t kDefaultCapabilities = kCapSolve | kCapDetached;

// The contents of a tokens file.
struct Tokens {
  absl::flat_hash_map<std::string, std::string> tenant_by_token;
  absl::flat_hash_map<std::string, SharePolicy> share_by_tenant;
  absl::flat_hash_map<std::string, uint32_t> caps_by_tenant;  // tenants with caps=
};
// Parses the text of a tokens file. INVALID_ARGUMENT names the bad line and field.
absl::StatusOr<Tokens> ParseTokens(absl::string_view text);

class TenantResolver {
 public:
  // `tokens_file` empty: no authentication. Otherwise the file must parse.
  static absl::StatusOr<std::unique_ptr<TenantResolver>> Create(std::string tokens_file);

  bool authenticates() const { return !file_.empty(); }
  // The tenant for the value of a call's `authorization` header (null: there was none).
  absl::StatusOr<std::string> ForAuthorization(const std::string* authorization) const;
  // The tenant of `call`.
  absl::StatusOr<std::string> ForCall(const grpc::CallbackServerContext& call) const;
  // The same, PERMISSION_DENIED unless the tenant has capability `c` (Require).
  absl::StatusOr<std::string> ForCall(const grpc::CallbackServerContext& call, Capability c,
                                      absl::string_view method) const;
  // The tenant's share of the devices (the defaults for a tenant the file does not name).
  SharePolicy Share(const std::string& tenant) const;
  // OK if the tenant has capability `c`, else PERMISSION_DENIED saying what `method` needs.
  absl::Status Require(const std::string& tenant, Capability c, absl::string_view method) const;
  // OK if the tenant may send raw kernels: with a tokens file, the capability `raw`; without
  // one (a single trusted tenant), `allowed_without_tokens` (--allow_raw_kernels).
  absl::Status RequireRawKernels(const std::string& tenant, bool allowed_without_tokens) const;
  // Re-reads the tokens file; on error keeps the tokens it had and says why.
  absl::Status Reload();
  int num_tokens() const;

 private:
  explicit TenantResolver(std::string file) : file_(std::move(file)) {}
  // The tenant's caps= (kDefaultCapabilities for a tenant without).
  uint32_t CapabilitiesOf(const std::string& tenant) const;
  const std::string file_;
  mutable absl::Mutex mu_;
  Tokens tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_TENANT_H_
