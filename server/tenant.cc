#include "server/tenant.h"

#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/client_text.h"

namespace ensolve::server {

namespace {

// One "key=value" field of a tokens line into the policy; the error names the field.
absl::Status ParseShareField(absl::string_view field, SharePolicy& share, bool& has_weight,
                             bool& has_priority) {
  const size_t eq = field.find('=');
  const absl::string_view key = field.substr(0, eq == absl::string_view::npos ? field.size() : eq);
  const std::string value(eq == absl::string_view::npos ? "" : field.substr(eq + 1));
  if (key == "weight") {
    double w = 0;
    if (!absl::SimpleAtod(value, &w) || !(w > 0) || !std::isfinite(w)) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight must be a positive number, got '", ClientText(value), "'"));
    }
    share.weight = w;
    has_weight = true;
    return absl::OkStatus();
  }
  if (key == "priority") {
    int p = 0;
    if (!absl::SimpleAtoi(value, &p)) {
      return absl::InvalidArgumentError(
          absl::StrCat("priority must be an integer, got '", ClientText(value), "'"));
    }
    share.priority = p;
    has_priority = true;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown field '", ClientText(field),
                                                 "': expected weight=W, priority=P or caps=C,..."));
}

// The one table of capability names.
constexpr struct {
  const char* name;
  Capability cap;
} kCapabilityNames[] = {{"solve", kCapSolve}, {"detached", kCapDetached}, {"raw", kCapRaw}};

std::string CapabilityList(uint32_t caps) {
  std::string out;
  for (const auto& c : kCapabilityNames) {
    if (caps & c.cap) absl::StrAppend(&out, out.empty() ? "" : ",", c.name);
  }
  return out.empty() ? "none" : out;
}

// "caps=solve,detached" (empty: none) into bits; the error names the unknown one.
absl::StatusOr<uint32_t> ParseCapabilities(absl::string_view value) {
  uint32_t caps = 0;
  for (absl::string_view name : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    bool known = false;
    for (const auto& c : kCapabilityNames) {
      if (name == c.name) {
        caps |= c.cap;
        known = true;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat("caps: unknown capability '", ClientText(name),
                                                     "'; expected any of ",
                                                     CapabilityList(kAllCapabilities)));
    }
  }
  return caps;
}

}  // namespace

absl::StatusOr<Tokens> ParseTokens(absl::string_view text) {
  Tokens out;
  // Where each tenant's explicit share and capabilities were given (a second, different
  // one is an error).
  absl::flat_hash_map<std::string, int> share_line, caps_line;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_no,
                       ": expected \"token tenant [weight=W] [priority=P] [caps=C,...]\", got ",
                       f.size(), " field"));
    }
    const std::string tenant(f[1]);
    SharePolicy share;
    bool has_weight = false, has_priority = false;
    std::optional<uint32_t> caps;
    for (size_t k = 2; k < f.size(); ++k) {
      absl::string_view field = f[k];
      absl::Status s;
      if (absl::ConsumePrefix(&field, "caps=")) {
        absl::StatusOr<uint32_t> c = ParseCapabilities(field);
        s = c.status();
        if (c.ok()) caps = *c;
      } else {
        s = ParseShareField(field, share, has_weight, has_priority);
      }
      if (!s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": ", s.message()));
      }
    }
    if (caps.has_value()) {
      auto [c, first] = out.caps_by_tenant.emplace(tenant, *caps);
      auto [where, added] = caps_line.emplace(tenant, line_no);
      if (!first && c->second != *caps) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", line_no, ": tenant '", ClientText(tenant),
                         "' already has other capabilities (line ", where->second, ")"));
      }
    }
    if (!out.tenant_by_token.emplace(std::string(f[0]), tenant).second) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no, ": the token is repeated"));
    }
    auto [it, added] = out.share_by_tenant.emplace(tenant, share);
    if (!has_weight && !has_priority) continue;
    auto [where, first] = share_line.emplace(tenant, line_no);
    if (!first && (it->second.weight != share.weight || it->second.priority != share.priority)) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_no, ": tenant '", ClientText(tenant),
                       "' already has another weight or priority (line ", where->second, ")"));
    }
    it->second = share;
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
  absl::StatusOr<Tokens> tokens = ParseTokens(text.str());
  if (!tokens.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tokens_file ", file_, ": ", tokens.status().message()));
  }
  absl::MutexLock lock(&mu_);
  tokens_ = std::move(*tokens);
  return absl::OkStatus();
}

int TenantResolver::num_tokens() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(tokens_.tenant_by_token.size());
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
  auto it = tokens_.tenant_by_token.find(value);
  // The token itself is never echoed.
  if (it == tokens_.tenant_by_token.end())
    return absl::UnauthenticatedError("unknown bearer token");
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

uint32_t TenantResolver::CapabilitiesOf(const std::string& tenant) const {
  absl::MutexLock lock(&mu_);
  auto it = tokens_.caps_by_tenant.find(tenant);
  return it != tokens_.caps_by_tenant.end() ? it->second : kDefaultCapabilities;
}

absl::Status TenantResolver::Require(const std::string& tenant, Capability c,
                                     absl::string_view method) const {
  const uint32_t caps = CapabilitiesOf(tenant);
  if (caps & c) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      method, ": tenant '", ClientText(tenant), "' may not call it: it needs the capability '",
      CapabilityList(c), "' and the tenant has caps=", CapabilityList(caps),
      " in the server's tokens file"));
}

absl::Status TenantResolver::RequireRawKernels(const std::string& tenant,
                                               bool allowed_without_tokens) const {
  if (authenticates()) {
    const uint32_t caps = CapabilitiesOf(tenant);
    if (caps & kCapRaw) return absl::OkStatus();
    return absl::PermissionDeniedError(
        absl::StrCat("raw_kernel: tenant '", ClientText(tenant),
                     "' may not send raw CUDA kernels: it needs the capability 'raw' and has caps=",
                     CapabilityList(caps), " in the server's tokens file"));
  }
  if (allowed_without_tokens) return absl::OkStatus();
  return absl::PermissionDeniedError(
      "raw_kernel: this server takes raw CUDA kernels only from tenants with the capability "
      "'raw' (caps=...,raw on their line of --tokens_file), or from anyone when started with "
      "--allow_raw_kernels and no tokens file; a raw kernel runs with the server's rights on "
      "the device (docs/reliability.md, \"Trust model\")");
}

absl::StatusOr<std::string> TenantResolver::ForCall(const grpc::CallbackServerContext& call,
                                                    Capability c, absl::string_view method) const {
  absl::StatusOr<std::string> tenant = ForCall(call);
  if (!tenant.ok()) return tenant;
  if (absl::Status s = Require(*tenant, c, method); !s.ok()) return s;
  return tenant;
}

SharePolicy TenantResolver::Share(const std::string& tenant) const {
  absl::MutexLock lock(&mu_);
  auto it = tokens_.share_by_tenant.find(tenant);
  return it == tokens_.share_by_tenant.end() ? SharePolicy{} : it->second;
}

}  // namespace ensolve::server
