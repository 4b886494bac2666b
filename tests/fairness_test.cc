// Fair shares through a real ensolved on loopback (issue 11, item 2): tenants of weights 1
// and 3 flooding one device get its time 1:3, and a third tenant's small request stays
// fast while they flood, one of them with a 10^9-step request. The policy itself is
// unit-tested in server/fair_queue_test.cc.
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

std::string TokensFile() {
  const std::string path = TempDir() + "/tokens";
  std::ofstream(path) << "token-a alice weight=1\ntoken-b bob weight=3\ntoken-c carol\n";
  return path;
}

// Lorenz at a fixed step: every batch of one request does the same work.
v1::SolveRequest Flood(int64_t batches, int64_t batch_size, double t1) {
  v1::SolveRequest req = LorenzRequest(batches * batch_size, t1);
  req.set_batch_size(batch_size);
  req.mutable_options()->set_adaptive(false);
  req.mutable_options()->set_dt(0.01);
  req.mutable_options()->set_max_steps(static_cast<int64_t>(t1 / 0.01) + 10);
  return req;
}

// A Solve read as fast as it comes, until it ends or `ctx` is cancelled.
class Stream {
 public:
  Stream(const std::string& target, const std::string& token, v1::SolveRequest req)
      : stub_(RawStub(target)) {
    Authorize(&ctx_, token);
    thread_ = std::thread([this, req = std::move(req)] {
      auto reader = stub_->Solve(&ctx_, req);
      v1::SolveResponse r;
      while (reader->Read(&r)) {
        if (r.has_accepted()) accepted_.Notify();
      }
      status_ = reader->Finish();
      done_.Notify();
    });
  }
  ~Stream() {
    ctx_.TryCancel();
    thread_.join();
  }
  bool WaitAccepted() { return accepted_.WaitForNotificationWithTimeout(absl::Seconds(30)); }
  bool WaitDone(absl::Duration timeout) { return done_.WaitForNotificationWithTimeout(timeout); }
  const grpc::Status& status() const { return status_; }

 private:
  std::unique_ptr<v1::EnsembleSolver::Stub> stub_;
  grpc::ClientContext ctx_;
  absl::Notification accepted_, done_;
  grpc::Status status_;
  std::thread thread_;
};

double TenantSeconds(const std::string& metrics, const std::string& tenant) {
  return MetricValue(metrics, "ensolve_tenant_device_seconds_total", {{"tenant", tenant}});
}
double TenantSteps(const std::string& metrics, const std::string& tenant) {
  return MetricValue(metrics, "ensolve_tenant_steps_total", {{"tenant", tenant}});
}

// The scrape's per-tenant and per-batch lines, to tell what held a device when a test fails.
std::string TenantLines(int metrics_port) {
  absl::StatusOr<std::string> m = HttpGet(metrics_port, "/metrics");
  if (!m.ok()) return std::string(m.status().message());
  std::string out;
  for (absl::string_view line : absl::StrSplit(*m, '\n')) {
    if (absl::StartsWith(line, "ensolve_tenant_") ||
        absl::StartsWith(line, "ensolve_batch_duration")) {
      absl::StrAppend(&out, line, "\n");
    }
  }
  return out;
}

TEST(Fairness, WeightsOneToThreeShareTheDeviceOneToThree) {
  server::ServerConfig c = TestConfig();
  c.tokens_file = TokensFile();
  TestServer t = StartServer(c);
  const std::string target = t.server->target();
  // Both flood one device (the CPU backend) with equal batches; bob, of weight 3, has three
  // times alice's batches, so both stay queued until bob's last one.
  Stream alice(target, "token-a", Flood(60, 1000, 10));
  Stream bob(target, "token-b", Flood(120, 1000, 10));
  ASSERT_TRUE(bob.WaitDone(absl::Seconds(300)));
  ASSERT_TRUE(bob.status().ok()) << bob.status().error_message();
  absl::StatusOr<std::string> m = HttpGet(t.server->metrics_port(), "/metrics");
  ASSERT_TRUE(m.ok()) << m.status();
  const double sa = TenantSeconds(*m, "alice"), sb = TenantSeconds(*m, "bob");
  const double wa = TenantSteps(*m, "alice"), wb = TenantSteps(*m, "bob");
  std::printf(
      "while both flooded: device seconds alice %.3f bob %.3f (bob/alice %.3f); "
      "steps alice %.0f bob %.0f (%.3f)\n",
      sa, sb, sb / sa, wa, wb, wb / wa);
  // The queue shares trajectory-work (steps), so the steps are held to 10%. Device seconds
  // follow them only as far as equal batches take equal time: on a loaded CI machine one
  // batch's wall time varies by more than that (a run measured 3.31 with steps at 3.08).
  EXPECT_NEAR(wb / wa, 3.0, 0.3);
  EXPECT_NEAR(sb / sa, 3.0, 0.6);
  EXPECT_EQ(wb, 120.0 * 1000 * 1000);  // every step of bob's counted once
}

TEST(Fairness, ASmallRequestStaysFastWhileTwoTenantsFloodOneWithA1e9StepRequest) {
  server::ServerConfig c = TestConfig();
  c.tokens_file = TokensFile();
  c.batch_slice = absl::Milliseconds(200);
  TestServer t = StartServer(c);
  const std::string target = t.server->target();
  Stream alice(target, "token-a", Flood(100000, 1000, 10));
  // 10,000 trajectories x 100,000 steps in one batch: minutes of work, cut into slices.
  Stream bob(target, "token-b", Flood(1, 10000, 1000));
  ASSERT_TRUE(alice.WaitAccepted());
  ASSERT_TRUE(bob.WaitAccepted());
  absl::SleepFor(absl::Seconds(1));  // both are running
  for (int i = 0; i < 3; ++i) {
    v1::SolveRequest small = LorenzRequest(10, 1);
    const absl::Time start = absl::Now();
    const grpc::Status s = SolveAs(target, "token-c", small);
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    std::printf("carol's 10-trajectory solve while alice and bob flood: %.3f s\n", seconds);
    ASSERT_TRUE(s.ok()) << s.error_message();
    // One slice of the device ahead of it at most, plus its own solve (CI machines are slow).
    EXPECT_LT(seconds, 2.0) << "what each tenant had of the device by then:\n"
                            << TenantLines(t.server->metrics_port());
  }
  EXPECT_FALSE(bob.WaitDone(absl::ZeroDuration()));  // still running: the case is real
}

}  // namespace
}  // namespace ensolve::testing
