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
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("line 1: expected \"token tenant\""));
  EXPECT_EQ((*r)->ForAuthorization(&c).value(), "carol");
  std::remove(path.c_str());
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
