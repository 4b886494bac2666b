// ensolved's front door as a real process: --help and --version exit 0 without build
// paths, usage errors exit 2, a taken gRPC or metrics port is a clear error at start (no
// SO_REUSEPORT sharing), the metrics listener follows --address's host, and an unknown
// ENSOLVE_* variable is warned about.
#include <stdlib.h>
#include <sys/wait.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

CommandResult Ensolved(const std::string& args) {
  return RunCommand(absl::StrCat(ENSOLVED_PATH, " ", args), TempDir());
}

struct Daemon {
  std::unique_ptr<Subprocess> process;
  int port = 0, metrics_port = 0;
  std::string log;
};

// Starts ensolved on 127.0.0.1:0 with metrics on any port of the same host.
Daemon Start() {
  const std::string dir = TempDir();
  Daemon d;
  d.log = dir + "/log";
  auto p = Subprocess::Start({ENSOLVED_PATH, "--address=127.0.0.1:0", "--metrics_port=0",
                              "--devices=cpu", "--threads=1", "--port_file=" + dir + "/port"},
                             d.log);
  EXPECT_TRUE(p.ok()) << p.status();
  d.process = std::move(*p);
  d.port = ReadPortFile(dir + "/port", absl::Seconds(10)).value_or(0);
  std::smatch m;
  const std::string log = ReadFile(d.log);
  if (std::regex_search(log, m, std::regex("metrics_port=([0-9]+)"))) {
    d.metrics_port = std::stoi(m[1]);
  }
  return d;
}

TEST(FrontDoor, HelpAndVersionExitZeroWithoutBuildPaths) {
  CommandResult help = Ensolved("--help");
  EXPECT_EQ(help.code, 0) << help.err;
  EXPECT_THAT(help.out, HasSubstr("Flags from ensolved:"));
  EXPECT_THAT(help.out, HasSubstr("--address"));
  EXPECT_THAT(help.out, HasSubstr("--metrics_host"));
  EXPECT_THAT(help.out, Not(HasSubstr(ENSOLVE_SOURCE_DIR)));
  EXPECT_THAT(help.out, Not(HasSubstr(".cc")));
  CommandResult version = Ensolved("--version");
  EXPECT_EQ(version.code, 0);
  EXPECT_THAT(version.out, ::testing::StartsWith("ensolved 0.1.0 (Release"));
}

TEST(FrontDoor, UsageErrorsExitTwo) {
  for (const char* args : {"--no_such_flag", "--threads=many", "stray-argument", "--port"}) {
    CommandResult r = Ensolved(args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("see ensolved --help")) << args;
  }
  EXPECT_THAT(Ensolved("--threads=many").err, HasSubstr("--threads=many"));
  EXPECT_EQ(Ensolved("--log_format=xml --metrics_port=-1").code, 2);
}

TEST(FrontDoor, TakenPortsAreClearErrorsAndMetricsFollowTheAddressHost) {
  Daemon first = Start();
  ASSERT_GT(first.port, 0);
  ASSERT_GT(first.metrics_port, 0) << ReadFile(first.log);
  EXPECT_THAT(ReadFile(first.log), HasSubstr("metrics_host=127.0.0.1"));
  EXPECT_TRUE(HttpGet(first.metrics_port, "/metrics").ok());

  CommandResult grpc_taken = Ensolved(absl::StrCat("--address=127.0.0.1:", first.port,
                                                   " --metrics_port=-1 --devices=cpu --threads=1"));
  EXPECT_EQ(grpc_taken.code, 1);
  EXPECT_THAT(grpc_taken.err, HasSubstr(absl::StrCat("ensolved: cannot listen on 127.0.0.1:",
                                                     first.port, ": the port is taken")));
  CommandResult metrics_taken = Ensolved(absl::StrCat(
      "--address=127.0.0.1:0 --metrics_port=", first.metrics_port, " --devices=cpu --threads=1"));
  EXPECT_EQ(metrics_taken.code, 1);
  EXPECT_THAT(metrics_taken.err,
              HasSubstr(absl::StrCat("ensolved: cannot listen for /metrics on 127.0.0.1:",
                                     first.metrics_port, ": the port is taken")));
}

TEST(FrontDoor, UnknownEnsolveVariablesAreWarnedAbout) {
  ::setenv("ENSOLVE_BACH_SIZE", "5", 1);  // a typo of ENSOLVE_BATCH_SIZE
  Daemon d = Start();
  ::unsetenv("ENSOLVE_BACH_SIZE");
  ASSERT_GT(d.port, 0);
  const std::string log = ReadFile(d.log);
  EXPECT_THAT(log, HasSubstr("event=unknown_environment_variable name=ENSOLVE_BACH_SIZE"));
  EXPECT_THAT(log, Not(HasSubstr("name=ENSOLVE_NVRTC")));
}

}  // namespace
}  // namespace ensolve::testing
