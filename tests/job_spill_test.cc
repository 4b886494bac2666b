// Detached jobs with a spill folder (--job_spill_dir; issue 11, item 4) through a real
// ensolved on loopback: kept messages go to one private file per job instead of memory, a
// watch reads them back bitwise, the disk bounds pause the job like the memory bound, a
// failed write is kept in memory or fails the job, and files go with their jobs.
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/job_support.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

using ::testing::HasSubstr;

// Lorenz, 4,000 trajectories in batches of 200, 101 save points: 9.7 MB of states.
v1::SolveRequest Big() {
  v1::SolveRequest req = LorenzRequest(4000, 5);
  req.set_batch_size(200);
  v1::SaveAt* s = req.mutable_options()->mutable_saveat();
  s->mutable_range()->set_start(0);
  s->mutable_range()->set_stop(5);
  s->mutable_range()->set_step(0.05);
  return req;
}
constexpr int64_t kBigStates = 4000 * 101 * 3 * 8;

// Messages of about 70 KiB; kept messages bounded to 2 MiB in memory, spilled to `dir`.
server::ServerConfig SpillConfig(const std::string& dir) {
  server::ServerConfig c = TestConfig();
  c.max_chunk_bytes = 64 << 10;
  c.job_kept_bytes = 2 << 20;
  c.job_spill_dir = dir;
  return c;
}

// The names in `dir` (no . and ..).
std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
  }
  return names;
}

std::string SpillPath(const std::string& dir, const std::string& job_id) {
  return absl::StrCat(dir, "/ensolve-job-", job_id, ".spill");
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

bool Ended(const v1::JobInfo& j) {
  return j.state() == v1::JobInfo::STATE_SUCCEEDED || j.state() == v1::JobInfo::STATE_FAILED ||
         j.state() == v1::JobInfo::STATE_CANCELLED;
}

TEST(JobSpill, AJobPastTheMemoryBoundRunsUnwatchedToItsEndOnDiskAndItsWatchEqualsItsSolve) {
  const std::string dir = TempDir();
  TestServer t = StartServer(SpillConfig(dir));
  absl::StatusOr<SolveResult> solved = t.client->Solve(Big());
  ASSERT_TRUE(solved.ok()) << solved.status();

  absl::StatusOr<v1::SolveAccepted> a = t.client->SubmitJob(Big());
  ASSERT_TRUE(a.ok()) << a.status();
  std::vector<v1::JobInfo::State> states;
  const v1::JobInfo done = WaitFor(*t.client, a->job_id(), Ended, &states);
  EXPECT_EQ(done.state(), v1::JobInfo::STATE_SUCCEEDED) << done.ShortDebugString();
  for (v1::JobInfo::State s : states) EXPECT_NE(s, v1::JobInfo::STATE_PAUSED);
  // Five times the memory bound kept, and in memory only the SolveAccepted and an index.
  EXPECT_GT(done.kept_bytes(), kBigStates);
  const int64_t memory = t.server->context().memory().reserved();
  EXPECT_LT(memory, 64 << 10);
  const std::string path = SpillPath(dir, a->job_id());
  EXPECT_THAT(Files(dir), ::testing::ElementsAre("ensolve-job-" + a->job_id() + ".spill"));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_GT(st.st_size, kBigStates);
  EXPECT_LT(st.st_size, done.kept_bytes());  // all but the SolveAccepted
  std::printf("%lld messages, %lld bytes kept: %lld in the file, %lld reserved in memory\n",
              static_cast<long long>(done.end_offset()), static_cast<long long>(done.kept_bytes()),
              static_cast<long long>(st.st_size), static_cast<long long>(memory));

  for (int pass = 0; pass < 2; ++pass) {  // read back from disk, twice
    absl::StatusOr<SolveResult> watched = t.client->WatchJobResult(a->job_id());
    ASSERT_TRUE(watched.ok()) << watched.status();
    ExpectSameResult(*solved, *watched);
  }
}

TEST(JobSpill, TheDiskBoundsPauseTheJobAndAcknowledgingResumesIt) {
  for (const bool total : {false, true}) {
    SCOPED_TRACE(total ? "--job_spill_total_bytes" : "--job_spill_bytes");
    const std::string dir = TempDir();
    server::ServerConfig c = SpillConfig(dir);
    c.job_kept_bytes = 64 << 20;  // memory is not what bounds it
    (total ? c.job_spill_total_bytes : c.job_spill_bytes) = 2 << 20;
    TestServer t = StartServer(c);
    absl::StatusOr<SolveResult> solved = t.client->Solve(Big());
    ASSERT_TRUE(solved.ok()) << solved.status();
    absl::StatusOr<v1::SolveAccepted> a = t.client->SubmitJob(Big());
    ASSERT_TRUE(a.ok()) << a.status();
    const v1::JobInfo paused = WaitFor(*t.client, a->job_id(), [](const v1::JobInfo& j) {
      return j.state() == v1::JobInfo::STATE_PAUSED;
    });
    EXPECT_LE(FileSize(SpillPath(dir, a->job_id())), 2 << 20);
    EXPECT_LT(paused.kept_bytes(), kBigStates / 2);

    // The client's watch acknowledges what it got each time the job pauses, and goes on.
    absl::StatusOr<SolveResult> watched = t.client->WatchJobResult(a->job_id());
    ASSERT_TRUE(watched.ok()) << watched.status();
    ExpectSameResult(*solved, *watched);
    // Ended: what is kept since the last acknowledgement is on disk (while paused, the
    // memory account also held the batches its Solve buffered).
    EXPECT_LT(t.server->context().memory().reserved(), 64 << 10);
    absl::StatusOr<std::string> m = HttpGet(t.server->metrics_port(), "/metrics");
    ASSERT_TRUE(m.ok());
    EXPECT_GT(MetricValue(*m, "ensolve_requests_total", {{"method", "WatchJob"}, {"code", "ok"}}),
              3);
  }
}

TEST(JobSpill, TheFileGoesWhenItsJobExpiresAndWhenTheServerStops) {
  const std::string dir = TempDir();
  {
    server::ServerConfig c = SpillConfig(dir);
    c.job_ttl = absl::Milliseconds(300);
    TestServer t = StartServer(c);
    absl::StatusOr<v1::SolveAccepted> a = t.client->SubmitJob(Endless());
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_GE(FileSize(SpillPath(dir, a->job_id())), 0);
    ASSERT_TRUE(t.client->CancelJob(a->job_id()).ok());
    WaitFor(*t.client, a->job_id(),
            [](const v1::JobInfo& j) { return j.state() == v1::JobInfo::STATE_CANCELLED; });
    EXPECT_GE(FileSize(SpillPath(dir, a->job_id())), 0);  // kept until it expires
    absl::SleepFor(absl::Milliseconds(400));
    ASSERT_TRUE(t.client->ListJobs().ok());  // expires it
    EXPECT_THAT(Files(dir), ::testing::IsEmpty());
    EXPECT_EQ(t.server->context().memory().reserved(), 0);
  }
  std::string finished, running;
  {
    TestServer t = StartServer(SpillConfig(dir));
    absl::StatusOr<v1::SolveAccepted> f = t.client->SubmitJob(Big());
    ASSERT_TRUE(f.ok()) << f.status();
    WaitFor(*t.client, f->job_id(), Ended);
    absl::StatusOr<v1::SolveAccepted> r = t.client->SubmitJob(Endless());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_GT(FileSize(SpillPath(dir, f->job_id())), kBigStates);
    EXPECT_GE(FileSize(SpillPath(dir, r->job_id())), 0);
    EXPECT_EQ(Files(dir).size(), 2u);
  }
  EXPECT_THAT(Files(dir), ::testing::IsEmpty());
}

TEST(JobSpill, ABadFolderFailsStartupNamingTheFlagAndAPreviousRunsFilesAreRemoved) {
  const std::string dir = TempDir();
  server::ServerConfig c = TestConfig();
  c.job_spill_dir = dir + "/missing";
  absl::StatusOr<std::unique_ptr<server::EnsolveServer>> s = server::EnsolveServer::Start(c);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(),
            absl::StrCat("--job_spill_dir=", dir,
                         "/missing: No such file or directory; expected a writable directory"));
  std::ofstream(dir + "/plain") << "x";
  const CommandResult file =
      RunCommand(absl::StrCat("ENSOLVE_JOB_SPILL_DIR=", dir, "/plain ", ENSOLVED_PATH,
                              " --port=0 --devices=cpu --metrics_port=-1"),
                 TempDir());
  EXPECT_NE(file.code, 0);
  EXPECT_THAT(file.err, HasSubstr(absl::StrCat("--job_spill_dir=", dir,
                                               "/plain: not a directory; expected a writable "
                                               "directory")));
  const CommandResult bound =
      RunCommand(absl::StrCat(ENSOLVED_PATH, " --job_spill_bytes=0 --devices=cpu"), TempDir());
  EXPECT_NE(bound.code, 0);
  EXPECT_THAT(bound.err, HasSubstr("--job_spill_bytes: must be > 0, got 0"));

  const std::string leftover = SpillPath(dir, "00112233445566778899aabbccddeeff");
  std::ofstream(leftover) << "a previous run's results";
  TestServer t = StartServer(SpillConfig(dir));
  EXPECT_EQ(FileSize(leftover), -1);
  EXPECT_EQ(FileSize(dir + "/plain"), 1);  // not ours: left alone
}

// A file size limit makes the server's writes fail with EFBIG past 1 MiB, as a full disk
// would with ENOSPC; SIGXFSZ is ignored so that the write returns the error.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    struct rlimit small = old_;
    small.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &small);
  }
  ~FileSizeLimit() { ::setrlimit(RLIMIT_FSIZE, &old_); }

 private:
  struct rlimit old_;
};

TEST(JobSpill, AFailedWriteKeepsTheMessageInMemoryOrFailsTheJobNamingTheFolder) {
  const std::string dir = TempDir();
  server::ServerConfig c = SpillConfig(dir);
  c.job_kept_bytes = 64 << 20;
  TestServer t = StartServer(c);
  absl::StatusOr<SolveResult> solved = t.client->Solve(Big());
  ASSERT_TRUE(solved.ok()) << solved.status();
  {
    // Room in memory: the job goes on there, nothing lost.
    FileSizeLimit limit(1 << 20);
    absl::StatusOr<v1::SolveAccepted> a = t.client->SubmitJob(Big());
    ASSERT_TRUE(a.ok()) << a.status();
    const v1::JobInfo done = WaitFor(*t.client, a->job_id(), Ended);
    EXPECT_EQ(done.state(), v1::JobInfo::STATE_SUCCEEDED) << done.ShortDebugString();
    EXPECT_LE(FileSize(SpillPath(dir, a->job_id())), 1 << 20);
    EXPECT_GT(t.server->context().memory().reserved(), kBigStates - (1 << 20));
    absl::StatusOr<SolveResult> watched = t.client->WatchJobResult(a->job_id());
    ASSERT_TRUE(watched.ok()) << watched.status();
    ExpectSameResult(*solved, *watched);
  }
  server::ServerConfig tight = SpillConfig(TempDir());
  tight.job_kept_bytes = 32 << 10;  // smaller than one message
  TestServer u = StartServer(tight);
  FileSizeLimit limit(1 << 20);
  absl::StatusOr<v1::SolveAccepted> a = u.client->SubmitJob(Big());
  ASSERT_TRUE(a.ok()) << a.status();
  const v1::JobInfo failed = WaitFor(*u.client, a->job_id(), Ended);
  EXPECT_EQ(failed.state(), v1::JobInfo::STATE_FAILED);
  EXPECT_EQ(failed.status_code(), static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EXPECT_THAT(failed.status_message(),
              HasSubstr(absl::StrCat("cannot write a detached job's results to ",
                                     SpillPath(tight.job_spill_dir, a->job_id()),
                                     " (--job_spill_dir): File too large; and a message of ")));
  EXPECT_THAT(failed.status_message(),
              HasSubstr("does not fit in memory either (--job_kept_bytes=32768)"));
  // What was written is still there to watch, and then the job's status.
  absl::StatusOr<SolveResult> watched = u.client->WatchJobResult(a->job_id());
  EXPECT_EQ(watched.status().code(), absl::StatusCode::kResourceExhausted) << watched.status();
}

}  // namespace
}  // namespace ensolve::testing
