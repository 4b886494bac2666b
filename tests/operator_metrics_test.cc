// The series an operator expects on /metrics besides the work counters: build info, process
// metrics read from /proc, request latency by method and code, trajectories by return code,
// and GPU gauges only where NVML is.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/internal/nvml.h"
#include "server/process_metrics.h"
#include "server/version.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

std::string Scrape(const TestServer& t) {
  // Request series are recorded when the server has seen the call end (a moment after the
  // client has its status): scrape until the jobs gauge settles.
  absl::StatusOr<std::string> text;
  for (int i = 0; i < 500; ++i) {
    text = HttpGet(t.server->metrics_port(), "/metrics");
    if (text.ok() && MetricValue(*text, "ensolve_jobs_active") == 0) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return text.ok() ? *text : "";
}

TEST(OperatorMetrics, BuildInfoLatencyAndReturnCodes) {
  TestServer t = StartServer();
  ASSERT_TRUE(t.client->Solve(LorenzRequest(300, 1)).ok());
  // A step budget this small stops every trajectory with max_steps.
  v1::SolveRequest capped = LorenzRequest(40, 1);
  capped.mutable_options()->set_max_steps(3);
  ASSERT_TRUE(t.client->Solve(capped).ok());
  v1::SolveRequest bad = LorenzRequest(10, 1);
  bad.mutable_options()->set_t0(1);  // t1 = t0: no span
  bad.mutable_options()->set_t1(1);
  ASSERT_FALSE(t.client->Solve(bad).ok());
  ASSERT_TRUE(t.client->GetServerInfo().ok());

  const std::string m = Scrape(t);
  EXPECT_EQ(MetricValue(m, "ensolve_build_info", {{"version", server::kVersion}}), 1);
  EXPECT_TRUE(absl::StrContains(m, "ensolve_build_info{cuda=\"")) << m;
  EXPECT_EQ(MetricValue(m, "ensolve_request_duration_seconds_count",
                        {{"method", "Solve"}, {"code", "ok"}}),
            2);
  EXPECT_EQ(MetricValue(m, "ensolve_request_duration_seconds_count",
                        {{"method", "Solve"}, {"code", "invalid_argument"}}),
            1);
  EXPECT_EQ(MetricValue(m, "ensolve_request_duration_seconds_count", {{"method", "GetServerInfo"}}),
            1);
  EXPECT_GT(MetricValue(m, "ensolve_request_duration_seconds_sum", {{"method", "Solve"}}), 0);
  // Every bucket of a latency histogram holds the call that took the longest.
  EXPECT_EQ(MetricValue(m, "ensolve_request_duration_seconds_bucket",
                        {{"method", "Solve"}, {"code", "ok"}, {"le", "+Inf"}}),
            2);
  EXPECT_EQ(MetricValue(m, "ensolve_trajectories_total", {{"retcode", "success"}}), 300);
  EXPECT_EQ(MetricValue(m, "ensolve_trajectories_total", {{"retcode", "max_steps"}}), 40);
  EXPECT_TRUE(absl::StrContains(m, "ensolve_trajectories_total{retcode=\"unstable\"} 0"));
}

TEST(OperatorMetrics, ProcessSeriesFollowTheProcess) {
  TestServer t = StartServer();
  const server::ProcessSample a = server::SampleProcess();
  std::vector<int> fds;
  for (int i = 0; i < 8; ++i) fds.push_back(::open("/dev/null", O_RDONLY));
  const server::ProcessSample b = server::SampleProcess();
  for (int fd : fds) ::close(fd);
  EXPECT_EQ(b.open_fds - a.open_fds, 8);
  EXPECT_GT(a.resident_bytes, 1 << 20);
  EXPECT_GE(a.virtual_bytes, a.resident_bytes);
  EXPECT_GE(a.max_fds, a.open_fds);
  EXPECT_GT(a.threads, 1);  // gRPC's and the workers'
  EXPECT_NEAR(a.start_time_seconds, absl::ToUnixSeconds(absl::Now()), 3600);

  const std::string m = Scrape(t);
  EXPECT_GT(MetricValue(m, "process_open_fds"), 0);
  EXPECT_GT(MetricValue(m, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_TRUE(absl::StrContains(m, "# TYPE process_cpu_seconds_total counter"));
  EXPECT_GT(MetricValue(m, "process_max_fds"), 0);
  EXPECT_GT(MetricValue(m, "process_start_time_seconds"), 0);
  // GPU gauges exist exactly where NVML does (on this machine or not).
  const bool nvml = server::Nvml::Get() != nullptr;
  EXPECT_EQ(absl::StrContains(m, "ensolve_gpu_memory_total_bytes{"), nvml);
  if (nvml) {
    EXPECT_GT(MetricValue(m, "ensolve_gpu_memory_total_bytes"), 0);
    EXPECT_GE(MetricValue(m, "ensolve_gpu_memory_used_bytes"), 0);
  }
}

// The GPU gauges come from NVML loaded at run time: an ensolved that finds the fake
// libnvidia-ml.so.1 on its library path serves that library's readings.
TEST(OperatorMetrics, GpuGaugesFromNvmlLoadedAtRunTime) {
  const std::string dir = TempDir();
  const char* old_path = std::getenv("LD_LIBRARY_PATH");
  const std::string saved = old_path != nullptr ? old_path : "";
  ::setenv("LD_LIBRARY_PATH", FAKE_NVML_DIR, 1);
  auto proc =
      Subprocess::Start({ENSOLVED_PATH, "--address=127.0.0.1:0", "--port_file=" + dir + "/port",
                         "--metrics_host=127.0.0.1", "--metrics_port=0",
                         "--metrics_port_file=" + dir + "/metrics", "--devices=cpu", "--threads=1"},
                        dir + "/ensolved.log");
  if (old_path != nullptr) {
    ::setenv("LD_LIBRARY_PATH", saved.c_str(), 1);
  } else {
    ::unsetenv("LD_LIBRARY_PATH");
  }
  ASSERT_TRUE(proc.ok()) << proc.status();
  absl::StatusOr<int> port = ReadPortFile(dir + "/metrics", absl::Seconds(20));
  ASSERT_TRUE(port.ok()) << port.status();
  absl::StatusOr<std::string> m = HttpGet(*port, "/metrics");
  ASSERT_TRUE(m.ok()) << m.status();
  const std::map<std::string, std::string> gpu0 = {{"gpu", "0"}, {"name", "Fake GPU"}};
  EXPECT_EQ(MetricValue(*m, "ensolve_gpu_memory_total_bytes", gpu0), 80.0 * (1 << 30));
  EXPECT_EQ(MetricValue(*m, "ensolve_gpu_memory_used_bytes", gpu0), 3.0 * (1 << 30));
  EXPECT_DOUBLE_EQ(MetricValue(*m, "ensolve_gpu_utilization_ratio", gpu0), 0.37);
  EXPECT_TRUE(absl::StrContains(*m, "uuid=\"GPU-00000000-fake\"")) << *m;
}

}  // namespace
}  // namespace ensolve::testing
