// The ensolve CLI against a real ensolved: solve with a server-side sampler to .npy (equal
// to the library's result), CSV parameters to CSV, validate (good and bad models), info.
// Outputs, inputs and exit codes in detail: cli_files_test.cc.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using CliRun = CommandResult;

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(StartServer()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { dir_ = TempDir(); }

  // Runs `ensolve --server=<test server> <args>` through the shell.
  CliRun Ensolve(const std::string& args) {
    return RunCommand(
        absl::StrCat(ENSOLVE_CLI_PATH, " --server=", server_->server->target(), " ", args), dir_);
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  static TestServer* server_;
  std::string dir_;
};
TestServer* Cli::server_ = nullptr;

TEST_F(Cli, SolveWithSamplerToNpyEqualsTheLibrary) {
  const std::string model = Write("lorenz.ode", kLorenz);
  const std::string out = dir_ + "/out.npy";
  CliRun r = Ensolve(absl::StrCat("solve ", model,
                                  " --sample 'uniform:seed=1:lo=0,0,0:hi=10,28,2.6666666666666665'",
                                  " -n 1000 --t1 2 --saveat 0:0.5:2 --batch_size 300 -o ", out));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("1000 trajectories x 5 save points x 3 states"));
  EXPECT_THAT(r.out, HasSubstr("return codes: success=1000"));
  EXPECT_THAT(r.out, HasSubstr("wrote " + out + ": [1000, 5, 3] float64"));
  EXPECT_THAT(r.err, Not(HasSubstr("\r"))) << "a progress bar on a non-terminal";

  absl::StatusOr<NpyArray> a = ReadNpy(out);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->descr, "<f8");
  EXPECT_THAT(a->shape, ::testing::ElementsAre(1000, 5, 3));

  v1::SolveRequest req = LorenzRequest(1000, 2, 1);
  auto* range = req.mutable_options()->mutable_saveat()->mutable_range();
  range->set_start(0);
  range->set_step(0.5);
  range->set_stop(2);
  absl::StatusOr<SolveResult> want = server_->client->Solve(req);
  ASSERT_TRUE(want.ok()) << want.status();
  absl::StatusOr<std::vector<double>> got = NpyToDoubles(*a);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, want->states);
}

TEST_F(Cli, CsvParametersToCsv) {
  const std::string model = Write("lorenz.ode", kLorenz);
  const std::string params =
      Write("p.csv", "sigma,rho,beta\n10,28,2.5\n10,20,2.5\n# note\n5,10,1\n");
  const std::string out = dir_ + "/out.csv";
  CliRun r = Ensolve(absl::StrCat("solve ", model, " --params ", params,
                                  " --t1 1 --saveat 0,0.5,1 --alg rk4 --dt 0.01 -o ", out));
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(ReadFile(out), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u + 3 * 3);
  EXPECT_EQ(lines[0], "trajectory,t,x,y,z,retcode,t_final,accepted_steps,rejected_steps,rhs_evals");
  EXPECT_THAT(lines[1], ::testing::StartsWith("0,0,1,0,0,0"));  // t = 0: the initial state
  EXPECT_THAT(lines[9], ::testing::StartsWith("2,1,"));
}

TEST_F(Cli, ValidateReportsTheModelOrItsError) {
  CliRun ok = Ensolve("validate " + Write("lorenz.ode", kLorenz));
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("states:   x = 1, y = 0, z = 0"));
  EXPECT_THAT(ok.out, HasSubstr("params:   sigma = 10, rho = 28"));

  const std::string bad = Write("bad.ode", "state x = 1\nx' = -k*x +\n");
  CliRun r = Ensolve("validate " + bad);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(bad + ":2:7: undefined name 'k'\n    x' = -k*x +\n          ^\n"));
}

TEST_F(Cli, InfoAndUsageErrors) {
  CliRun info = Ensolve("info");
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_THAT(info.out, HasSubstr("(serving)"));
  EXPECT_THAT(info.out, HasSubstr("cpu"));
  EXPECT_THAT(info.out, HasSubstr(" GiB, 2 threads)"));
  EXPECT_THAT(info.out, HasSubstr("euler, rk4, tsit5"));

  EXPECT_EQ(Ensolve("").code, 2);
  EXPECT_EQ(Ensolve("frobnicate").code, 2);
  CliRun bad =
      Ensolve("solve " + Write("m.ode", kLorenz) + " --sample 'cauchy:seed=1' -n 5 --t1 1");
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("cauchy"));
  CliRun server_error = Ensolve("solve " + Write("m.ode", kLorenz) + " -n 5 --t1 1 --alg nope");
  EXPECT_EQ(server_error.code, 1);
  EXPECT_THAT(server_error.err, HasSubstr("INVALID_ARGUMENT: options.algorithm"));
}

}  // namespace
}  // namespace ensolve::testing
