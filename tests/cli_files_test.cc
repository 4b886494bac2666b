// The ensolve CLI's outputs, inputs and exit codes against a real ensolved: every -o that
// cannot be written is refused before anything is solved (the CLI is pointed at an address
// where nothing listens, so a solve attempt would fail differently); .npz holds the whole
// result; CSV headers are matched to names; .npz inputs by key; --t1 from --saveat; grid
// samplers by name; failed trajectories exit 3 unless --allow_failures.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/npy.h"
#include "client/npz.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using CliRun = CommandResult;

class CliFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(StartServer()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    dir_ = TempDir();
    model_ = Write("lorenz.ode", kLorenz);
  }

  CliRun Run(const std::string& server, const std::string& args) {
    return RunCommand(absl::StrCat(ENSOLVE_CLI_PATH, " --server=", server, " ", args), dir_);
  }
  CliRun Ensolve(const std::string& args) { return Run(server_->server->target(), args); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::vector<double> Doubles(const absl::StatusOr<NpyArray>& a) {
    EXPECT_TRUE(a.ok()) << a.status();
    if (!a.ok()) return {};
    return *NpyToDoubles(*a);
  }

  static TestServer* server_;
  std::string dir_, model_;
};
TestServer* CliFiles::server_ = nullptr;

TEST_F(CliFiles, OutputsThatCannotBeWrittenAreRefusedBeforeSolving) {
  const std::string nobody = "127.0.0.1:1";  // nothing listens: a solve would be UNAVAILABLE
  const std::string solve = absl::StrCat("solve ", model_, " -n 5 --t1 1 -o ");
  struct Case {
    std::string out, error;
  } cases[] = {
      {dir_ + "/out.txt", "unknown extension '.txt'; use .npz"},
      {dir_ + "/out", "no extension"},
      {dir_ + "/missing/out.npy", "folder " + dir_ + "/missing does not exist"},
      {"/proc/out.npz", "cannot create a file in /proc"},
      {dir_, "no extension"},
  };
  for (const Case& c : cases) {
    CliRun r = Run(nobody, solve + c.out);
    EXPECT_EQ(r.code, 2) << c.out << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.error)) << c.out;
    EXPECT_THAT(r.err, Not(HasSubstr("UNAVAILABLE"))) << c.out << ": a solve was attempted";
  }
  ASSERT_EQ(::mkdir((dir_ + "/d.npy").c_str(), 0755), 0);
  CliRun folder = Run(nobody, solve + dir_ + "/d.npy");
  EXPECT_EQ(folder.code, 2);
  EXPECT_THAT(folder.err, HasSubstr("is a folder"));
  EXPECT_FALSE(std::ifstream(dir_ + "/out.npz").good()) << "the check leaves no file behind";
  // A good output is checked the same way and then the solve does happen (and fails here).
  CliRun good = Run(nobody, solve + dir_ + "/out.npz");
  EXPECT_EQ(good.code, 1);
  EXPECT_THAT(good.err, HasSubstr("UNAVAILABLE"));
}

TEST_F(CliFiles, BadInputsAreUsageErrorsBeforeSolving) {
  const std::string nobody = "127.0.0.1:1";  // nothing listens: a solve would be UNAVAILABLE
  const std::string solve = absl::StrCat("solve ", model_, " --t1 1 ");
  struct Case {
    std::string args, error;
  } cases[] = {
      {"--params " + dir_ + "/missing.npy", "missing.npy: cannot open"},
      {"--params " + Write("bad.npy", "not numpy"), "bad.npy: not a .npy file"},
      {"--params " + Write("ragged.csv", "1,2,3\n4,5\n"), "ragged.csv:2: 2 columns"},
      {"--params " + Write("text.csv", "sigma,rho,beta\n1,x,3\n"), "text.csv:2: not a row"},
      {"--params " + Write("bad.npz", "not a zip"), "bad.npz: not a .npz archive"},
      {"--params " + Write("p.csv", "1,2,3\n") + " --sample uniform:lo=0,0,0:hi=1,1,1",
       "give a file or a sampler for p, not both"},
      {"--sample grid:rho=0,1", "expected lo,hi,points"},
      {"--sample uniform:rho=0,1:lo=0,0,0", "by name or none"},
      {"--u0 " + Write("u0.csv", "x,y,w\n1,2,3\n"), "'w' is not a state of the model (x, y, z)"},
      {"--saveat 0:1", "expected start:step:stop"},
      {"--precision float16", "--precision: float32 or float64"},
  };
  for (const Case& c : cases) {
    CliRun r = Run(nobody, solve + c.args);
    EXPECT_EQ(r.code, 2) << c.args << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.error)) << c.args;
    EXPECT_THAT(r.err, Not(HasSubstr("UNAVAILABLE"))) << c.args << ": a solve was attempted";
  }
  for (const char* command : {"solve", "validate"}) {
    CliRun r = Run(nobody, absl::StrCat(command, " ", dir_, "/missing.ode --t1 1"));
    EXPECT_EQ(r.code, 2) << command;
    EXPECT_THAT(r.err, HasSubstr("missing.ode: cannot open")) << command;
  }
}

TEST_F(CliFiles, DashWritesCsvToStdoutAndTheSummaryToStderr) {
  CliRun r = Ensolve(absl::StrCat("solve ", model_, " -n 2 --saveat 0,1 -o -"));
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0], "trajectory,t,x,y,z,retcode,t_final,accepted_steps,rejected_steps,rhs_evals");
  EXPECT_THAT(lines[1], ::testing::StartsWith("0,0,1,0,0,0,1,"));
  EXPECT_THAT(r.err, HasSubstr("return codes: success=2"));
  EXPECT_THAT(r.err, HasSubstr("wrote stdout: [2, 2, 3] float64"));
}

TEST_F(CliFiles, NpzHoldsStatesTimesCodesStepsInputsAndNames) {
  const std::string params = Write("p.csv", "sigma,rho,beta\n10,28,2.5\n10,20,2.5\n5,10,1\n");
  const std::string npz = dir_ + "/r.npz", npy = dir_ + "/r.npy";
  const std::string args =
      absl::StrCat("solve ", model_, " --params ", params, " --saveat 0:0.5:2");
  ASSERT_EQ(Ensolve(args + " -o " + npz).code, 0);
  ASSERT_EQ(Ensolve(args + " --precision float32 -o " + npy).code, 0);
  absl::StatusOr<std::vector<std::string>> keys = NpzKeys(npz);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_THAT(*keys,
              ::testing::IsSupersetOf({"u", "t", "retcode", "accepted_steps", "rejected_steps", "p",
                                       "state_names", "param_names"}));
  absl::StatusOr<NpyArray> u = ReadNpzMember(npz, "u");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->descr, "<f8");
  EXPECT_THAT(u->shape, ElementsAre(3, 5, 3));
  EXPECT_THAT(Doubles(ReadNpzMember(npz, "t")), ElementsAre(0, 0.5, 1, 1.5, 2));
  EXPECT_THAT(Doubles(ReadNpzMember(npz, "retcode")), ElementsAre(0, 0, 0));
  EXPECT_THAT(Doubles(ReadNpzMember(npz, "t_final")), ElementsAre(2, 2, 2));
  EXPECT_THAT(Doubles(ReadNpzMember(npz, "p")), ElementsAre(10, 28, 2.5, 10, 20, 2.5, 5, 10, 1));
  for (double steps : Doubles(ReadNpzMember(npz, "accepted_steps"))) EXPECT_GT(steps, 0);
  // .npy is the states alone, here in float32.
  absl::StatusOr<NpyArray> states = ReadNpy(npy);
  ASSERT_TRUE(states.ok()) << states.status();
  EXPECT_EQ(states->descr, "<f4");
  EXPECT_THAT(states->shape, ElementsAre(3, 5, 3));
}

TEST_F(CliFiles, FailedTrajectoriesExitThreeAndAreLeftOutOfTheSummary) {
  const std::string params =
      Write("p.csv", "10,28,2.6666666666666665\n10,0.5,2.6666666666666665\n");
  const std::string args =
      absl::StrCat("solve ", model_, " --params ", params, " --t1 50 --max_steps 300");
  CliRun r = Ensolve(args);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_THAT(r.out, HasSubstr("return codes: success=1 max_steps=1"));
  EXPECT_THAT(r.out, HasSubstr("FAILED: 1 of 2 trajectories did not reach t1"));
  EXPECT_THAT(r.out, HasSubstr("over the 1 successful trajectories"));
  EXPECT_EQ(Ensolve(args + " --allow_failures").code, 0);
}

TEST_F(CliFiles, CsvHeadersAreMatchedToTheModelsNames) {
  const std::string ordered = Write("a.csv", "sigma,rho,beta\n10,28,2.5\n9,20,1\n");
  const std::string shuffled = Write("b.csv", "rho, beta ,sigma\n28,2.5,10\n20,1,9\n");
  const std::string args = absl::StrCat("solve ", model_, " --t1 1 -o - --params ");
  CliRun a = Ensolve(args + ordered), b = Ensolve(args + shuffled);
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);

  CliRun unknown = Ensolve(args + Write("c.csv", "sigma,rho,gamma\n1,2,3\n"));
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("c.csv:1: header column 'gamma' is not a parameter of the "
                                     "model (sigma, rho, beta)"));
  CliRun missing = Ensolve(args + Write("d.csv", "sigma,rho\n1,2\n"));
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("header lacks parameter beta"));
  CliRun twice = Ensolve(args + Write("e.csv", "sigma,rho,rho\n1,2,3\n"));
  EXPECT_EQ(twice.code, 2);
  EXPECT_THAT(twice.err, HasSubstr("names 'rho' twice"));
}

TEST_F(CliFiles, NpzInputsAreReadByKey) {
  const double p[] = {10, 28, 2.5, 9, 20, 1};
  const double other[] = {10, 28, 2.5};
  std::string p_npy = NpyHeader("<f8", {2, 3});
  p_npy.append(reinterpret_cast<const char*>(p), sizeof(p));
  std::string other_npy = NpyHeader("<f8", {3});
  other_npy.append(reinterpret_cast<const char*>(other), sizeof(other));
  const std::string npz = dir_ + "/in.npz";
  ASSERT_TRUE(WriteNpz(npz, {{"other", other_npy}, {"p", p_npy}}).ok());
  const std::string args = absl::StrCat("solve ", model_, " --t1 1 --params ");
  CliRun by_default = Ensolve(args + npz);  // "p", as ensolve's own .npz outputs name it
  ASSERT_EQ(by_default.code, 0) << by_default.err;
  EXPECT_THAT(by_default.out, HasSubstr("2 trajectories"));
  CliRun by_key = Ensolve(args + npz + ":other -n 1");  // one shared row
  ASSERT_EQ(by_key.code, 0) << by_key.err;
  EXPECT_THAT(by_key.out, HasSubstr("1 trajectories"));
  CliRun bad_key = Ensolve(args + npz + ":nope");
  EXPECT_EQ(bad_key.code, 2);
  EXPECT_THAT(bad_key.err, HasSubstr("no array 'nope' (it has: other, p)"));
}

TEST_F(CliFiles, T1DefaultsToTheLastSaveTimeAndGridsMayNameOneParameter) {
  CliRun r = Ensolve(absl::StrCat("solve ", model_, " --saveat 0:0.25:0.75 -n 1"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("final state (t = 0.75)"));
  CliRun none = Ensolve(absl::StrCat("solve ", model_, " -n 1"));
  EXPECT_EQ(none.code, 2);
  EXPECT_THAT(none.err, HasSubstr("give --t1"));

  // rho over a grid, sigma and beta at their defaults: the same as spelling all three out.
  CliRun named = Ensolve(absl::StrCat("solve ", model_, " --t1 1 --sample grid:rho=0,20,5 -o -"));
  CliRun full = Ensolve(absl::StrCat("solve ", model_, " --t1 1 -o - --sample ",
                                     "grid:lo=10,0,2.6666666666666665:hi=10,20,2.6666666666666665:"
                                     "n=1,5,1"));
  ASSERT_EQ(named.code, 0) << named.err;
  ASSERT_EQ(full.code, 0) << full.err;
  EXPECT_EQ(named.out, full.out);
  EXPECT_THAT(named.err, HasSubstr("5 trajectories"));
  CliRun typo = Ensolve(absl::StrCat("solve ", model_, " --t1 1 --sample grid:rh=0,20,5"));
  EXPECT_EQ(typo.code, 2);
  EXPECT_THAT(typo.err, HasSubstr("'rh' is not a parameter (sigma, rho, beta)"));
}

TEST_F(CliFiles, ModelErrorsQuoteTheLineWithHintsAndValidateNeedsNoServer) {
  const std::string bad = Write("bad.ode", "state x = 1\nparam k = 2\nx' = -2k*x**2\n");
  CliRun r = Run("127.0.0.1:1", "validate " + bad);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(bad + ":3:8: unexpected name 'k': expected end of line\n"
                                     "    x' = -2k*x**2\n"
                                     "           ^\n"
                                     "hint: multiplication is written out: x' = -2*k*x**2\n"
                                     "hint: powers are written x^2 (not x**2)"));
  CliRun solve = Ensolve("solve " + bad + " --t1 1");
  EXPECT_EQ(solve.code, 1);
  EXPECT_THAT(solve.err, HasSubstr(bad + ":3:8: unexpected name 'k'"));
  CliRun ok = Run("127.0.0.1:1", "validate " + model_);
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("params:   sigma = 10, rho = 28"));
}

TEST_F(CliFiles, UsageErrorsExitTwoAndHelpHasNoBuildPaths) {
  EXPECT_EQ(Ensolve("--no_such_flag info").code, 2);
  EXPECT_THAT(Ensolve("--n=many info").err, HasSubstr("--n=many"));
  CliRun help = Ensolve("--help");
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("Flags from ensolve:"));
  EXPECT_THAT(help.out, HasSubstr("--allow_failures"));
  EXPECT_THAT(help.out, Not(HasSubstr(ENSOLVE_SOURCE_DIR)));
  EXPECT_THAT(help.out, Not(HasSubstr(".cc")));
  CliRun version = Ensolve("--version");
  EXPECT_EQ(version.code, 0);
  EXPECT_THAT(version.out, ::testing::StartsWith("ensolve 0.1.0 ("));
}

}  // namespace
}  // namespace ensolve::testing
