#include "server/tenant.h"

#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ensolve::server {

absl::StatusOr<absl::flat_hash_map<std::string, std::string>> ParseTokens(absl::string_view text) {
  absl::flat_hash_map<std::string, std::string> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_no, ": expected \"token tenant\", got ", f.size(), " fields"));
    }
    if (!out.emplace(std::string(f[0]), std::string(f[1])).second) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": the token is repeated"));
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<TenantResolver>> TenantResolver::Create(std::string tokens_file) {
  std::unique_ptr<TenantResolver> r(new TenantResolver(std::move(tokens_file)));
  if (r->authenticates()) {
    if (absl::Status s = r->Reload(); !s.ok()) return s;
  }
  return r;
}

absl::Status TenantResolver::Reload() {
  if (!authenticates()) return absl::OkStatus();
  std::ifstream in(file_);
  if (!in) return absl::NotFoundError(absl::StrCat("--tokens_file: cannot read ", file_));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> tokens = ParseTokens(text.str());
  if (!tokens.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tokens_file ", file_, ": ", tokens.status().message()));
  }
  absl::MutexLock lock(&mu_);
  tenant_by_token_ = std::move(*tokens);
  return absl::OkStatus();
}

int TenantResolver::num_tokens() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(tenant_by_token_.size());
}

absl::StatusOr<std::string> TenantResolver::ForAuthorization(
    const std::string* authorization) const {
  if (!authenticates()) return std::string(kDefaultTenant);
  if (authorization == nullptr) {
    return absl::UnauthenticatedError(
        "this server needs a bearer token: send metadata 'authorization: Bearer <token>'");
  }
  absl::string_view value = *authorization;
  if (!absl::ConsumePrefix(&value, "Bearer ") && !absl::ConsumePrefix(&value, "bearer ")) {
    return absl::UnauthenticatedError("the authorization metadata must be 'Bearer <token>'");
  }
  value = absl::StripAsciiWhitespace(value);
  absl::MutexLock lock(&mu_);
  auto it = tenant_by_token_.find(value);
  // The token itself is never echoed.
  if (it == tenant_by_token_.end()) return absl::UnauthenticatedError("unknown bearer token");
  return it->second;
}

absl::StatusOr<std::string> TenantResolver::ForCall(const grpc::CallbackServerContext& call) const {
  if (!authenticates()) return std::string(kDefaultTenant);
  const auto& md = call.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return ForAuthorization(nullptr);
  const std::string value(it->second.data(), it->second.size());
  return ForAuthorization(&value);
}

}  // namespace ensolve::server
