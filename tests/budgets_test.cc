// Budgets (issue 11, item 3): every limit a request can hit has its status and a message
// that names the limit, its flag and the figures. A real ensolved on 127.0.0.1:0.
#include <signal.h>
#include <stdio.h>

#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "ensolve/v1/solver.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

grpc::Status CompileAs(const std::string& target, const std::string& token,
                       const std::string& source) {
  auto stub = RawStub(target);
  grpc::ClientContext ctx;
  Authorize(&ctx, token);
  v1::CompileModelRequest req;
  req.set_model_source(source);
  v1::CompileModelResponse resp;
  return stub->CompileModel(&ctx, req, &resp);
}

grpc::Status InfoAs(const std::string& target, const std::string& token) {
  auto stub = RawStub(target);
  grpc::ClientContext ctx;
  Authorize(&ctx, token);
  v1::GetServerInfoRequest req;
  v1::ServerInfo info;
  return stub->GetServerInfo(&ctx, req, &info);
}

std::string TokensFile() {
  const std::string path = TempDir() + "/tokens";
  std::ofstream(path) << "# token tenant\ntoken-a alice\ntoken-b bob\n";
  return path;
}

MATCHER_P2(Is, code, message_part, "") {
  *result_listener << "status " << arg.error_code() << ": " << arg.error_message();
  return arg.error_code() == code && absl::StrContains(arg.error_message(), message_part);
}

int64_t PeakRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

TEST(Budgets, RequestOverTheRequestMemoryLimitIsRefusedBeforeAllocating) {
  TestServer t = StartServer();
  const int64_t before = PeakRssBytes();
  const grpc::Status s = SolveAs(t.server->target(), "", WideRequest());
  EXPECT_THAT(s, Is(grpc::StatusCode::RESOURCE_EXHAUSTED,
                    "over the per-request limit of 2.0 GiB (2147483648 bytes) "
                    "(--max_request_memory)"));
  EXPECT_THAT(s.error_message(),
              StartsWith("memory budget: the job's results and batch work (buffered results "));
  const int64_t grew = PeakRssBytes() - before;
  std::printf("peak RSS grew by %.1f MB while refusing the 3.3 GB request\n", grew / 1e6);
  EXPECT_LT(grew, int64_t{300} << 20);
  // The call's reservation goes when the server has seen the call end (OnDone), a moment
  // after the client has its status.
  for (int i = 0; i < 500 && t.server->context().memory().reserved() != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(t.server->context().memory().reserved(), 0);
}

TEST(Budgets, ServerMemoryBudget) {
  server::ServerConfig c = TestConfig();
  c.memory_budget = 64 << 20;
  c.max_request_memory = int64_t{1} << 30;
  TestServer t = StartServer(c);
  v1::SolveRequest req = LorenzRequest(100000, 1);
  req.set_batch_size(100000);
  req.mutable_options()->mutable_saveat()->mutable_range()->set_stop(1);
  req.mutable_options()->mutable_saveat()->mutable_range()->set_step(0.01);
  const grpc::Status s = SolveAs(t.server->target(), "", req);
  EXPECT_THAT(s, Is(grpc::StatusCode::RESOURCE_EXHAUSTED,
                    "of the server's 64.0 MiB (67108864 bytes) are free (--memory_budget); "
                    "retry later"));
  // A request that fits still runs.
  EXPECT_TRUE(SolveAs(t.server->target(), "", LorenzRequest(100, 1)).ok());
  absl::StatusOr<std::string> m = HttpGet(t.server->metrics_port(), "/metrics");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(MetricValue(*m, "ensolve_memory_budget_bytes"), 64 << 20);
  EXPECT_GE(MetricValue(*m, "ensolve_memory_reserved_bytes"), 0);
  EXPECT_EQ(MetricValue(*m, "ensolve_compile_queue_depth"), 0);
  // GetServerInfo reports the budgets.
  absl::StatusOr<v1::ServerInfo> info = t.client->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->limits().memory_budget(), 64 << 20);
  EXPECT_EQ(info->limits().max_request_memory(), int64_t{1} << 30);
  EXPECT_EQ(info->limits().max_request_steps(), int64_t{10000000000000});
  EXPECT_EQ(info->limits().max_job_seconds(), 3600);
  EXPECT_EQ(info->limits().stream_unread_timeout_seconds(), 60);
  EXPECT_EQ(info->limits().max_identifier_length(), 128);
}

TEST(Budgets, TenantMemoryLimit) {
  server::ServerConfig c = TestConfig();
  c.tokens_file = TokensFile();
  c.tenant_max_memory = 10 << 20;
  TestServer t = StartServer(c);
  v1::SolveRequest req = LorenzRequest(100000, 1);
  req.set_batch_size(50000);
  const grpc::Status s = SolveAs(t.server->target(), "token-a", req);
  EXPECT_THAT(s, Is(grpc::StatusCode::RESOURCE_EXHAUSTED, "but tenant 'alice' already holds "));
  EXPECT_THAT(s.error_message(),
              HasSubstr("of its limit of 10.0 MiB (10485760 bytes) (--tenant_max_memory)"));
  EXPECT_TRUE(SolveAs(t.server->target(), "token-b", LorenzRequest(100, 1)).ok());
}

TEST(Budgets, ComputeBudgetPerRequest) {
  server::ServerConfig c = TestConfig();
  c.max_request_steps = 1000000000;
  TestServer t = StartServer(c);
  const grpc::Status s = SolveAs(t.server->target(), "", LorenzRequest(10000, 1));
  EXPECT_THAT(s, Is(grpc::StatusCode::RESOURCE_EXHAUSTED,
                    "compute budget: trajectories x options.max_steps = 10000 x 1000000 = "
                    "10000000000 steps, over the per-request limit of 1000000000 "
                    "(--max_request_steps); lower options.max_steps or split the ensemble"));
  v1::SolveRequest fewer = LorenzRequest(10000, 1);
  fewer.mutable_options()->set_max_steps(10000);
  EXPECT_TRUE(SolveAs(t.server->target(), "", fewer).ok());
}

TEST(Budgets, JobsPastTheServerRunTimeLimitFail) {
  server::ServerConfig c = TestConfig();
  c.max_job_time = absl::Seconds(1);
  TestServer t = StartServer(c);
  v1::SolveRequest req = LorenzRequest(2000000, 1000);  // minutes of work on 2 cores
  req.set_batch_size(10000);
  const absl::Time start = absl::Now();
  const grpc::Status s = SolveAs(t.server->target(), "", req);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("a job over --max_job_time=1s ended after %.2f s\n", seconds);
  EXPECT_THAT(s, Is(grpc::StatusCode::RESOURCE_EXHAUSTED,
                    "past the server's limit of 1s (--max_job_time); lower options.max_steps, "
                    "shorten the time span or split the ensemble"));
  EXPECT_THAT(s.error_message(), StartsWith("compute budget: the job ran for "));
  EXPECT_LT(seconds, 30);
}

TEST(Budgets, TenantLimitsOnJobsTrajectoriesAndSteps) {
  server::ServerConfig c = TestConfig();
  c.tokens_file = TokensFile();
  c.tenant_max_jobs = 1;
  c.tenant_max_trajectories = 500000;
  c.tenant_max_steps = int64_t{100000} * 1000000;
  TestServer t = StartServer(c);
  const std::string target = t.server->target();
  // alice holds one long job...
  absl::Notification accepted, release;
  std::thread holder([&] {
    v1::SolveRequest req = LorenzRequest(50000, 1000);
    req.set_batch_size(1000);
    auto stub = RawStub(target);
    grpc::ClientContext ctx;
    Authorize(&ctx, "token-a");
    auto reader = stub->Solve(&ctx, req);
    v1::SolveResponse r;
    if (reader->Read(&r)) accepted.Notify();
    release.WaitForNotification();
    ctx.TryCancel();
    while (reader->Read(&r)) {
    }
    reader->Finish();
  });
  // ...so her second is refused, and bob's is not.
  ASSERT_TRUE(accepted.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_THAT(SolveAs(target, "token-a", LorenzRequest(10, 1)),
              Is(grpc::StatusCode::RESOURCE_EXHAUSTED,
                 "tenant 'alice' has 1 jobs admitted and this job adds 1, over its limit of 1 "
                 "(--tenant_max_jobs); retry when its other jobs finish"));
  EXPECT_TRUE(SolveAs(target, "token-b", LorenzRequest(10, 1)).ok());
  release.Notify();
  holder.join();
  EXPECT_THAT(SolveAs(target, "token-b", LorenzRequest(600000, 1)),
              Is(grpc::StatusCode::RESOURCE_EXHAUSTED,
                 "tenant 'bob' has 0 trajectories admitted and this job adds 600000, over its "
                 "limit of 500000 (--tenant_max_trajectories)"));
  EXPECT_THAT(SolveAs(target, "token-b", LorenzRequest(200000, 1)),
              Is(grpc::StatusCode::RESOURCE_EXHAUSTED,
                 "tenant 'bob' has 0 trajectory-steps (trajectories x max_steps) admitted and this "
                 "job adds 200000000000, over its limit of 100000000000 (--tenant_max_steps)"));
}

TEST(Budgets, TokensAreRequiredWhenConfigured) {
  server::ServerConfig c = TestConfig();
  c.tokens_file = TokensFile();
  TestServer t = StartServer(c);
  const std::string target = t.server->target();
  const char* kMissing =
      "this server needs a bearer token: send metadata 'authorization: Bearer <token>'";
  EXPECT_THAT(SolveAs(target, "", LorenzRequest(10, 1)),
              Is(grpc::StatusCode::UNAUTHENTICATED, kMissing));
  EXPECT_THAT(SolveAs(target, "wrong", LorenzRequest(10, 1)),
              Is(grpc::StatusCode::UNAUTHENTICATED, "unknown bearer token"));
  EXPECT_THAT(CompileAs(target, "", kLorenz), Is(grpc::StatusCode::UNAUTHENTICATED, kMissing));
  EXPECT_THAT(InfoAs(target, "wrong"),
              Is(grpc::StatusCode::UNAUTHENTICATED, "unknown bearer token"));
  EXPECT_TRUE(SolveAs(target, "token-a", LorenzRequest(10, 1)).ok());
  EXPECT_TRUE(CompileAs(target, "token-b", kLorenz).ok());
  EXPECT_TRUE(InfoAs(target, "token-b").ok());
  // Liveness probes need no token.
  EXPECT_EQ(HealthCheck(target, "").value_or("?"), "SERVING");
  // Reloading picks up a new file.
  std::ofstream(c.tokens_file) << "token-c carol\n";
  ASSERT_TRUE(t.server->ReloadTokens().ok());
  EXPECT_TRUE(SolveAs(target, "token-c", LorenzRequest(10, 1)).ok());
  EXPECT_THAT(SolveAs(target, "token-a", LorenzRequest(10, 1)),
              Is(grpc::StatusCode::UNAUTHENTICATED, "unknown bearer token"));
}

TEST(Budgets, SighupReloadsTheTokensFile) {
  const std::string dir = TempDir();
  const std::string tokens = TokensFile();
  auto p = Subprocess::Start(
      {ENSOLVED_PATH, "--address=127.0.0.1:0", "--metrics_port=-1", "--devices=cpu", "--threads=2",
       "--port_file=" + dir + "/port", "--tokens_file=" + tokens},
      dir + "/ensolved.log");
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<int> port = ReadPortFile(dir + "/port", absl::Seconds(30));
  ASSERT_TRUE(port.ok()) << ReadFile(dir + "/ensolved.log");
  const std::string target = absl::StrCat("127.0.0.1:", *port);
  EXPECT_TRUE(InfoAs(target, "token-a").ok());
  std::ofstream(tokens) << "token-d dave\n";
  (*p)->Signal(SIGHUP);
  grpc::Status s;
  for (int i = 0; i < 500; ++i) {  // the reload is asynchronous
    s = InfoAs(target, "token-d");
    if (s.ok()) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(InfoAs(target, "token-a"),
              Is(grpc::StatusCode::UNAUTHENTICATED, "unknown bearer token"));
  EXPECT_THAT(ReadFile(dir + "/ensolved.log"), HasSubstr("event=tokens_reloaded ok=true tokens=1"));
  (*p)->Signal(SIGTERM);
  EXPECT_EQ((*p)->Wait(absl::Seconds(30)).value_or(-1), 0);
}

TEST(Budgets, CompileQueueFull) {
  server::ServerConfig c = TestConfig();
  c.compile_threads = 1;
  c.compile_queue = 1;
  TestServer t = StartServer(c);
  const std::string target = t.server->target();
  server::CompilePool& pool = t.server->context().compile_pool();
  std::thread first([&] { EXPECT_TRUE(CompileAs(target, "", SlowModel(1, 40000)).ok()); });
  while (pool.running() == 0) absl::SleepFor(absl::Milliseconds(2));
  std::thread second([&] { EXPECT_TRUE(CompileAs(target, "", SlowModel(2, 40000)).ok()); });
  while (pool.queued() == 0) absl::SleepFor(absl::Milliseconds(2));
  v1::SolveRequest third = LorenzRequest(10, 1);
  third.set_model_source(SlowModel(3, 40000));
  EXPECT_THAT(SolveAs(target, "", third),
              Is(grpc::StatusCode::RESOURCE_EXHAUSTED,
                 "compile queue full: 1 models are waiting to be compiled, the limit is 1 "
                 "(--compile_queue); retry later, or send a model the server has compiled "
                 "before"));
  EXPECT_THAT(CompileAs(target, "", SlowModel(4, 40000)),
              Is(grpc::StatusCode::RESOURCE_EXHAUSTED, "compile queue full"));
  first.join();
  second.join();
}

TEST(Budgets, CompileQueueShareOfOneTenant) {
  server::ServerConfig c = TestConfig();
  c.tokens_file = TokensFile();
  c.compile_threads = 1;
  c.tenant_compile_queue = 1;
  TestServer t = StartServer(c);
  const std::string target = t.server->target();
  server::CompilePool& pool = t.server->context().compile_pool();
  std::thread first([&] { EXPECT_TRUE(CompileAs(target, "token-a", SlowModel(11, 40000)).ok()); });
  while (pool.running() == 0) absl::SleepFor(absl::Milliseconds(2));
  std::thread second([&] { EXPECT_TRUE(CompileAs(target, "token-a", SlowModel(12, 40000)).ok()); });
  while (pool.queued() == 0) absl::SleepFor(absl::Milliseconds(2));
  EXPECT_THAT(CompileAs(target, "token-a", SlowModel(13, 40000)),
              Is(grpc::StatusCode::RESOURCE_EXHAUSTED,
                 "compile queue full for tenant 'alice': 1 of its models are waiting to be "
                 "compiled, the limit is 1 (--tenant_compile_queue); retry later"));
  // bob's model still gets in line.
  EXPECT_TRUE(CompileAs(target, "token-b", SlowModel(14, 40000)).ok());
  first.join();
  second.join();
}

TEST(Budgets, CompileTimeLimit) {
  server::ServerConfig c = TestConfig();
  c.model_limits.max_compile_seconds = 0.001;
  TestServer t = StartServer(c);
  const absl::Time start = absl::Now();
  EXPECT_THAT(CompileAs(t.server->target(), "", SlowModel(21, 100000)),
              Is(grpc::StatusCode::RESOURCE_EXHAUSTED,
                 "model_source: line 1, column 1: compiling the model took more than the limit "
                 "max_compile_seconds = 0.001 (its derivatives are too large, or the server is "
                 "busy)"));
  std::printf("a 100 KB model stopped by a 1 ms compile limit after %.3f s\n",
              absl::ToDoubleSeconds(absl::Now() - start));
  v1::SolveRequest req = LorenzRequest(10, 1);
  req.set_model_source(SlowModel(22, 100000));
  EXPECT_THAT(SolveAs(t.server->target(), "", req),
              Is(grpc::StatusCode::RESOURCE_EXHAUSTED, "max_compile_seconds = 0.001"));
  absl::StatusOr<v1::ServerInfo> info = t.client->GetServerInfo();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->limits().max_compile_seconds(), 0.001);
}

TEST(Budgets, LongNamesAreRejectedByTheLexerAtOnce) {
  TestServer t = StartServer();
  v1::SolveRequest req = LorenzRequest(10, 1);
  req.set_model_source("state x = 1\nx' = -" + std::string(130000, 'k') + "*x\n");
  const absl::Time start = absl::Now();
  const grpc::Status s = SolveAs(t.server->target(), "", req);
  std::printf("a 130,000-character name rejected in %.3f s\n",
              absl::ToDoubleSeconds(absl::Now() - start));
  EXPECT_THAT(s, Is(grpc::StatusCode::INVALID_ARGUMENT,
                    absl::StrCat("model_source: line 2, column 7: name '", std::string(32, 'k'),
                                 "...' is 130000 characters long, over the limit "
                                 "max_identifier_length = 128")));
  EXPECT_LT(absl::ToDoubleSeconds(absl::Now() - start), 10);
}

}  // namespace
}  // namespace ensolve::testing
