// Operations: /metrics over HTTP agrees with the work done; health turns NOT_SERVING when
// the server drains, admitted jobs still finish, and new ones are refused.
#include <algorithm>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

TEST(ServiceOps, MetricsCountTheWorkDone) {
  TestServer t = StartServer();
  int64_t trajectories = 0, batches = 0;
  for (int64_t n : {1000, 2500, 7}) {
    v1::SolveRequest req = LorenzRequest(n, 1);
    req.set_batch_size(1000);
    absl::StatusOr<SolveResult> r = t.client->Solve(req);
    ASSERT_TRUE(r.ok()) << r.status();
    trajectories += n;
    batches += r->accepted.batches();
  }
  v1::SolveRequest bad = LorenzRequest(10, 1);
  bad.mutable_options()->set_algorithm("nope");
  EXPECT_FALSE(t.client->Solve(bad).ok());
  ASSERT_TRUE(t.client->CompileModel(kLorenz).ok());
  ASSERT_TRUE(t.client->GetServerInfo().ok());

  // A stream counts as active until the server has seen its completion (OnDone), which can
  // come a moment after the client has the final status: scrape until it has settled.
  absl::StatusOr<std::string> text;
  for (int i = 0; i < 500; ++i) {
    text = HttpGet(t.server->metrics_port(), "/metrics");
    ASSERT_TRUE(text.ok()) << text.status();
    if (MetricValue(*text, "ensolve_jobs_active") == 0) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  const std::string& m = *text;
  EXPECT_EQ(MetricValue(m, "ensolve_requests_total", {{"method", "Solve"}, {"code", "ok"}}), 3);
  EXPECT_EQ(
      MetricValue(m, "ensolve_requests_total", {{"method", "Solve"}, {"code", "invalid_argument"}}),
      1);
  EXPECT_EQ(MetricValue(m, "ensolve_requests_total", {{"method", "CompileModel"}}), 1);
  EXPECT_EQ(MetricValue(m, "ensolve_requests_total", {{"method", "GetServerInfo"}}), 1);
  EXPECT_EQ(MetricValue(m, "ensolve_trajectories_solved_total", {{"device", "cpu"}}), trajectories);
  EXPECT_EQ(MetricValue(m, "ensolve_batches_total", {{"outcome", "completed"}}), batches);
  EXPECT_EQ(MetricValue(m, "ensolve_batch_duration_seconds_count"), batches);
  EXPECT_EQ(MetricValue(m, "ensolve_batch_queue_wait_seconds_count"), batches);
  // One text, parsed once; every later request (and CompileModel) hit the cache.
  EXPECT_EQ(MetricValue(m, "ensolve_model_compiles_total"), 1);
  EXPECT_EQ(MetricValue(m, "ensolve_model_cache_hits_total"), 4);
  EXPECT_EQ(MetricValue(m, "ensolve_model_prepares_total", {{"device", "cpu"}}), 1);
  EXPECT_GT(MetricValue(m, "ensolve_model_prepare_seconds_total", {{"device", "cpu"}}), 0);
  EXPECT_GT(MetricValue(m, "ensolve_device_busy_seconds_total", {{"device", "cpu"}}), 0);
  EXPECT_EQ(MetricValue(m, "ensolve_stream_bytes_total"), trajectories * 3 * 8);
  EXPECT_EQ(MetricValue(m, "ensolve_queue_depth_batches"), 0);
  EXPECT_EQ(MetricValue(m, "ensolve_jobs_active"), 0);
}

TEST(ServiceOps, HealthServingThenNotServingOnDrain) {
  TestServer t = StartServer();
  const std::string target = t.server->target();
  EXPECT_EQ(HealthCheck(target, "").value_or("?"), "SERVING");
  EXPECT_EQ(HealthCheck(target, "ensolve.v1.EnsembleSolver").value_or("?"), "SERVING");

  // A job of ~1 s is admitted; then the server drains.
  v1::SolveRequest req = LorenzRequest(50 * 1000, 100);
  req.set_batch_size(1000);
  absl::Notification accepted;
  absl::StatusOr<SolveResult> result;
  std::thread job([&] {
    ResultAssembler a;
    absl::Status s = t.client->SolveStream(req, [&](const v1::SolveResponse& r) {
      if (r.has_accepted()) accepted.Notify();
      return a.Add(r);
    });
    result = s.ok() ? a.Take() : absl::StatusOr<SolveResult>(s);
  });
  accepted.WaitForNotification();
  bool drained = false;
  std::thread drain([&] { drained = t.server->Drain(absl::Seconds(30)); });

  // While draining: NOT_SERVING, and new jobs are refused with UNAVAILABLE.
  absl::StatusOr<std::string> health;
  for (int i = 0; i < 200; ++i) {
    health = HealthCheck(target, "");
    if (health.ok() && *health == "NOT_SERVING") break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(health.value_or(health.status().ToString()), "NOT_SERVING");
  absl::StatusOr<SolveResult> refused = t.client->Solve(LorenzRequest(10, 1));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();

  job.join();
  drain.join();
  EXPECT_TRUE(drained);
  ASSERT_TRUE(result.ok()) << result.status();  // the admitted job finished in full
  EXPECT_EQ(result->summary.retcode_counts().at("success"), 50 * 1000);
}

TEST(ServiceOps, DrainDeadlineFailsWhatIsLeftWithUnavailable) {
  TestServer t = StartServer();
  absl::Notification accepted;
  absl::Status status;
  std::thread job([&] {
    v1::SolveRequest req = LorenzRequest(500 * 1000, 100);
    req.set_batch_size(1000);
    status = t.client->SolveStream(req, [&](const v1::SolveResponse& r) {
      if (r.has_accepted()) accepted.Notify();
      return absl::OkStatus();
    });
  });
  accepted.WaitForNotification();
  const absl::Time start = absl::Now();
  EXPECT_FALSE(t.server->Drain(absl::Milliseconds(200)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  job.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
}

// Server reflection lists the service. The reflection protos are not installed, so the
// request is hand-encoded: ServerReflectionRequest{list_services: ""} is field 7, empty.
TEST(ServiceOps, ServerInfoDescribesTheDevices) {
  TestServer t = StartServer();
  absl::StatusOr<v1::ServerInfo> info = t.client->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->devices_size(), 1);  // the test server runs on the CPU
  const v1::DeviceInfo& d = info->devices(0);
  EXPECT_EQ(d.name(), "cpu");
  EXPECT_EQ(d.kind(), "cpu");
  EXPECT_EQ(d.state(), "idle");
  EXPECT_EQ(d.threads(), 2);
  EXPECT_FALSE(d.model().empty());
  EXPECT_GT(d.memory_bytes(), int64_t{1} << 28);
  EXPECT_EQ(d.compute_capability(), "");
  // The algorithm table, row for row.
  ASSERT_EQ(info->algorithm_info_size(), kNumAlgorithms);
  ASSERT_EQ(info->algorithms_size(), kNumAlgorithms);
  for (int i = 0; i < kNumAlgorithms; ++i) {
    const AlgorithmInfo& want = AlgorithmTable()[i];
    const v1::AlgorithmInfo& got = info->algorithm_info(i);
    EXPECT_EQ(got.name(), want.name);
    EXPECT_EQ(info->algorithms(i), want.name);
    EXPECT_EQ(got.order(), want.order) << want.name;
    EXPECT_EQ(got.adaptive(), want.adaptive) << want.name;
    EXPECT_EQ(got.stiff(), want.stiff) << want.name;
    EXPECT_EQ(got.dense_order(), want.dense_order) << want.name;
  }
  const auto rodas5p =
      std::find_if(info->algorithm_info().begin(), info->algorithm_info().end(),
                   [](const v1::AlgorithmInfo& a) { return a.name() == "rodas5p"; });
  ASSERT_NE(rodas5p, info->algorithm_info().end());
  EXPECT_TRUE(rodas5p->stiff());
  EXPECT_TRUE(rodas5p->jacobian());
  EXPECT_EQ(rodas5p->order(), 5);
}

TEST(ServiceOps, ReflectionListsTheService) {
  TestServer t = StartServer();
  auto channel = grpc::CreateChannel(t.server->target(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  auto step = [&](intptr_t want) {
    ASSERT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), want);
  };
  call->StartCall(reinterpret_cast<void*>(1));
  step(1);
  const char request[] = {0x3a, 0x00};
  grpc::Slice slice(request, sizeof(request));
  grpc::ByteBuffer out(&slice, 1);
  call->Write(out, reinterpret_cast<void*>(2));
  step(2);
  grpc::ByteBuffer in;
  call->Read(&in, reinterpret_cast<void*>(3));
  step(3);
  ASSERT_TRUE(ok);
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(in.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_NE(bytes.find("ensolve.v1.EnsembleSolver"), std::string::npos);
  EXPECT_NE(bytes.find("grpc.health.v1.Health"), std::string::npos);
  ctx.TryCancel();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  step(4);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace ensolve::testing
