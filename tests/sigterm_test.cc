// ensolved as a real process: SIGTERM under load loses no admitted job (health turns
// NOT_SERVING, new work is refused, admitted jobs stream to the end, exit status 0);
// ENSOLVE_* environment variables configure it; --devices=gpu fails fast without a GPU.
#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

struct Daemon {
  std::unique_ptr<Subprocess> process;
  std::string target;
  std::string log;
};

Daemon StartDaemon(const std::vector<std::string>& extra_flags = {}) {
  const std::string dir = TempDir();
  Daemon d;
  d.log = dir + "/ensolved.log";
  std::vector<std::string> argv = {ENSOLVED_PATH,       "--address=127.0.0.1:0",
                                   "--metrics_port=-1", "--devices=cpu",
                                   "--threads=2",       "--port_file=" + dir + "/port"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  auto p = Subprocess::Start(argv, d.log);
  EXPECT_TRUE(p.ok()) << p.status();
  d.process = std::move(*p);
  absl::StatusOr<int> port = ReadPortFile(dir + "/port", absl::Seconds(10));
  EXPECT_TRUE(port.ok()) << port.status() << "\n" << ReadFile(d.log);
  d.target = absl::StrCat("127.0.0.1:", port.value_or(0));
  return d;
}

TEST(Sigterm, UnderLoadLosesNoAdmittedJob) {
  Daemon d = StartDaemon({"--drain_deadline=60s"});
  auto client = Client::Connect(d.target);
  ASSERT_EQ(HealthCheck(d.target, "").value_or("?"), "SERVING");

  // Three jobs of ~0.5 s of CPU each, all admitted before the signal.
  constexpr int kJobs = 3;
  constexpr int64_t kTrajectories = 20 * 1000;
  absl::BlockingCounter accepted(kJobs);
  std::vector<absl::StatusOr<SolveResult>> results(kJobs, absl::UnknownError("not run"));
  std::vector<std::thread> jobs;
  for (int j = 0; j < kJobs; ++j) {
    jobs.emplace_back([&, j] {
      v1::SolveRequest req = LorenzRequest(kTrajectories, 100, /*seed=*/j + 1);
      req.set_batch_size(1000);
      ResultAssembler a;
      absl::Status s = client->SolveStream(req, [&](const v1::SolveResponse& r) {
        if (r.has_accepted()) accepted.DecrementCount();
        return a.Add(r);
      });
      results[j] = s.ok() ? a.Take() : absl::StatusOr<SolveResult>(s);
    });
  }
  accepted.Wait();
  d.process->Signal(SIGTERM);

  // Draining: NOT_SERVING, and a new job is refused.
  absl::StatusOr<std::string> health;
  for (int i = 0; i < 400; ++i) {
    health = HealthCheck(d.target, "");
    if (health.ok() && *health == "NOT_SERVING") break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(health.value_or(health.status().ToString()), "NOT_SERVING");
  absl::StatusOr<SolveResult> late = client->Solve(LorenzRequest(10, 1));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnavailable) << late.status();

  for (auto& t : jobs) t.join();
  for (int j = 0; j < kJobs; ++j) {
    ASSERT_TRUE(results[j].ok()) << "job " << j << ": " << results[j].status();
    EXPECT_EQ(results[j]->trajectories, kTrajectories);
    EXPECT_EQ(results[j]->summary.retcode_counts().at("success"), kTrajectories);
  }
  absl::StatusOr<int> rc = d.process->Wait(absl::Seconds(30));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(*rc, 0);
  const std::string log = ReadFile(d.log);
  EXPECT_THAT(log, ::testing::HasSubstr("event=drain_finished all_jobs_finished=true"));
  EXPECT_THAT(log, ::testing::HasSubstr("event=signal signal=SIGTERM"));
}

TEST(Sigterm, IdleServerExitsAtOnce) {
  Daemon d = StartDaemon();
  const absl::Time start = absl::Now();
  d.process->Signal(SIGTERM);
  absl::StatusOr<int> rc = d.process->Wait(absl::Seconds(10));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(*rc, 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(Flags, EnvironmentOverridesDefaultsAndFlagsOverrideEnvironment) {
  ::setenv("ENSOLVE_BATCH_SIZE", "1234", 1);
  ::setenv("ENSOLVE_MAX_SAVE_POINTS", "77", 1);
  Daemon d = StartDaemon({"--max_save_points=88"});
  ::unsetenv("ENSOLVE_BATCH_SIZE");
  ::unsetenv("ENSOLVE_MAX_SAVE_POINTS");
  auto info = Client::Connect(d.target)->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->limits().default_batch_size(), 1234);
  EXPECT_EQ(info->limits().max_save_points(), 88);
  d.process->Signal(SIGTERM);
  EXPECT_EQ(d.process->Wait(absl::Seconds(10)).value_or(-1), 0);
}

TEST(Flags, GpuWithoutAGpuFailsFastWithAClearMessage) {
  const std::string dir = TempDir();
  auto p = Subprocess::Start(
      {ENSOLVED_PATH, "--devices=gpu", "--address=127.0.0.1:0", "--metrics_port=-1"}, dir + "/log");
  ASSERT_TRUE(p.ok());
  absl::StatusOr<int> rc = (*p)->Wait(absl::Seconds(10));
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_NE(*rc, 0);
  EXPECT_THAT(ReadFile(dir + "/log"), ::testing::HasSubstr("--devices=gpu: no GPU is available ("));
}

}  // namespace
}  // namespace ensolve::testing
