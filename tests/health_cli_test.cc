// `ensolve health`, the container's HEALTHCHECK: exit 0 only while the server says SERVING.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

using ::testing::HasSubstr;

struct HealthRun {
  int code = -1;
  std::string out;
};

HealthRun Health(const std::string& target, const std::string& args) {
  const std::string out = TempDir() + "/out.txt";
  const std::string cmd = absl::StrCat(ENSOLVE_CLI_PATH, " --server=", target,
                                       " --timeout=3s health ", args, " >", out, " 2>&1");
  const int status = std::system(cmd.c_str());
  HealthRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  r.out = ss.str();
  return r;
}

TEST(HealthCli, ServingUntilDrained) {
  TestServer t = StartServer();
  HealthRun r = Health(t.server->target(), "");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "SERVING\n");
  r = Health(t.server->target(), "ensolve.v1.EnsembleSolver");
  EXPECT_EQ(r.code, 0) << r.out;
  r = Health(t.server->target(), "no.such.Service");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("NOT_FOUND"));

  const std::string target = t.server->target();
  t.server->Drain(absl::Seconds(1));
  r = Health(target, "");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("UNAVAILABLE"));
}

}  // namespace
}  // namespace ensolve::testing
