#include "server/tenant.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve::server {
namespace {

std::string WriteTemp(const std::string& text) {
  char path[] = "/tmp/ensolve_tokens_XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(TenantTest, WithoutTokensEveryoneIsDefault) {
  auto r = TenantResolver::Create("");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)->authenticates());
  EXPECT_EQ((*r)->ForAuthorization(nullptr).value(), "default");
  const std::string junk = "Bearer whatever";
  EXPECT_EQ((*r)->ForAuthorization(&junk).value(), "default");
}

TEST(TenantTest, TokensMapToTenants) {
  const std::string path = WriteTemp("# comment\n\ntok-a alice\n  tok-b\tbob  \n");
  auto r = TenantResolver::Create(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->num_tokens(), 2);
  const std::string a = "Bearer tok-a", b = "Bearer tok-b", bad = "Bearer nope", basic = "Basic x";
  EXPECT_EQ((*r)->ForAuthorization(&a).value(), "alice");
  EXPECT_EQ((*r)->ForAuthorization(&b).value(), "bob");
  const absl::Status unknown = (*r)->ForAuthorization(&bad).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.message(), "unknown bearer token");
  const absl::Status missing = (*r)->ForAuthorization(nullptr).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(missing.message(),
            "this server needs a bearer token: send metadata 'authorization: Bearer <token>'");
  EXPECT_EQ((*r)->ForAuthorization(&basic).status().code(), absl::StatusCode::kUnauthenticated);

  // Reload picks up a changed file; a broken one keeps the old tokens.
  std::ofstream(path) << "tok-c carol\n";
  ASSERT_TRUE((*r)->Reload().ok());
  const std::string c = "Bearer tok-c";
  EXPECT_EQ((*r)->ForAuthorization(&c).value(), "carol");
  EXPECT_FALSE((*r)->ForAuthorization(&a).ok());
  std::ofstream(path) << "only-one-field\n";
  const absl::Status s = (*r)->Reload();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              ::testing::HasSubstr(
                  "line 1: expected \"token tenant [weight=W] [priority=P] [caps=C,...]\", got 1 "
                  "field"));
  EXPECT_EQ((*r)->ForAuthorization(&c).value(), "carol");
  std::remove(path.c_str());
}

TEST(TenantTest, SharesComeFromTheTokensFile) {
  absl::StatusOr<Tokens> t = ParseTokens(
      "ta alice weight=3\n"
      "ta2 alice\n"  // a second token of alice, no share given: alice keeps weight 3
      "tb bob priority=2 weight=0.5\n"
      "tc carol\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->share_by_tenant.at("alice").weight, 3);
  EXPECT_EQ(t->share_by_tenant.at("alice").priority, 0);
  EXPECT_EQ(t->share_by_tenant.at("bob").weight, 0.5);
  EXPECT_EQ(t->share_by_tenant.at("bob").priority, 2);
  EXPECT_EQ(t->share_by_tenant.at("carol").weight, 1);

  const std::string path = WriteTemp("tb bob priority=2 weight=0.5\n");
  auto r = TenantResolver::Create(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->Share("bob").priority, 2);
  EXPECT_EQ((*r)->Share("nobody").weight, 1);  // unnamed tenants get the defaults
  std::remove(path.c_str());
}

TEST(TenantTest, BadSharesNameTheLineAndField) {
  const auto message = [](const char* text) {
    return std::string(ParseTokens(text).status().message());
  };
  EXPECT_EQ(message("t a weight=0\n"), "line 1: weight must be a positive number, got '0'");
  EXPECT_EQ(message("t a weight=x\n"), "line 1: weight must be a positive number, got 'x'");
  EXPECT_EQ(message("t a weight=inf\n"), "line 1: weight must be a positive number, got 'inf'");
  EXPECT_EQ(message("t a priority=1.5\n"), "line 1: priority must be an integer, got '1.5'");
  EXPECT_EQ(message("#\nt a colour=red\n"),
            "line 2: unknown field 'colour=red': expected weight=W, priority=P or caps=C,...");
  EXPECT_EQ(message("t a weight=2\nu a weight=3\n"),
            "line 2: tenant 'a' already has another weight or priority (line 1)");
  EXPECT_TRUE(ParseTokens("t a weight=2\nu a weight=2\n").ok());
}

TEST(TenantTest, CapabilitiesComeFromTheTokensFileAndDenyWithAMessage) {
  const std::string path = WriteTemp(
      "ta alice caps=solve\n"
      "ta2 alice\n"  // a second token, no caps given: alice keeps caps=solve
      "tb bob caps=detached,solve weight=2\n"
      "tc carol caps=\n"  // nothing at all
      "td dave\n"         // the default: everything but raw kernels
      "te erin caps=solve,raw\n");
  auto r = TenantResolver::Create(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)->Require("alice", kCapSolve, "Solve").ok());
  const absl::Status denied = (*r)->Require("alice", kCapDetached, "SubmitJob");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(),
            "SubmitJob: tenant 'alice' may not call it: it needs the capability 'detached' and "
            "the tenant has caps=solve in the server's tokens file");
  EXPECT_TRUE((*r)->Require("bob", kCapDetached, "SubmitJob").ok());
  EXPECT_EQ((*r)->Require("carol", kCapSolve, "Solve").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE((*r)->Require("dave", kCapDetached, "ListJobs").ok());
  EXPECT_TRUE((*r)->Require("dave", kCapSolve, "Solve").ok());
  // Raw kernels only where a line names `raw`.
  EXPECT_TRUE((*r)->RequireRawKernels("erin", false).ok());
  EXPECT_EQ((*r)->RequireRawKernels("dave", true).message(),
            "raw_kernel: tenant 'dave' may not send raw CUDA kernels: it needs the capability "
            "'raw' and has caps=solve,detached in the server's tokens file");
  std::remove(path.c_str());

  EXPECT_EQ(ParseTokens("t a caps=solve,rawk\n").status().message(),
            "line 1: caps: unknown capability 'rawk'; expected any of solve,detached,raw");
  EXPECT_EQ(ParseTokens("t a caps=solve\nu a caps=detached\n").status().message(),
            "line 2: tenant 'a' already has other capabilities (line 1)");
}

TEST(TenantTest, BadFileFailsAtStart) {
  EXPECT_EQ(TenantResolver::Create("/nonexistent/tokens").status().code(),
            absl::StatusCode::kNotFound);
  const std::string path = WriteTemp("t a\nt b\n");
  EXPECT_EQ(TenantResolver::Create(path).status().code(), absl::StatusCode::kInvalidArgument);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace ensolve::server
