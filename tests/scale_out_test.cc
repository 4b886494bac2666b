// Scale-out: one ensemble through one ShardedClient call over three ensolved processes on
// loopback. Every trajectory must come back exactly once and in order, every server must
// have done a share (its own /metrics says so), and killing one server in the middle of the
// call must not lose or repeat a trajectory.
//
// The model carries a tag: k' = id with k(0) = 0 and t in [0, 1], so k(1) is the parameter
// id, and a grid sampler gives trajectory i the id i. Row i of the result therefore says
// which trajectory it is; the u0 sampler (uniform, keyed by the ensemble index) makes each
// trajectory's Lorenz part different.
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/sharded_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

using ::testing::Contains;

constexpr char kTaggedLorenz[] = R"(# Lorenz with a tag: k(1) = id
state x = 1, y = 0, z = 0, k = 0
param sigma = 10, rho = 28, beta = 8/3, id = 0
x' = sigma*(y - x)
y' = x*(rho - z) - y
z' = x*y - beta*z
k' = id
)";

constexpr int64_t kTrajectories = 200000;

v1::SolveRequest TaggedRequest(int64_t n) {
  v1::SolveRequest req;
  req.set_model_source(kTaggedLorenz);
  req.set_trajectories(n);
  req.mutable_options()->set_t1(1);
  v1::UniformBox* u = req.mutable_u0()->mutable_sampler()->mutable_uniform();
  req.mutable_u0()->mutable_sampler()->set_seed(7);
  for (auto [lo, hi] : {std::pair{-10.0, 10.0}, {-10.0, 10.0}, {0.0, 30.0}, {0.0, 0.0}}) {
    u->add_lo(lo);
    u->add_hi(hi);
  }
  v1::Grid* g = req.mutable_params()->mutable_sampler()->mutable_grid();
  for (auto [v, points] : {std::pair{10.0, 1.0}, {28.0, 1.0}, {8.0 / 3, 1.0}}) {
    g->add_lo(v);
    g->add_hi(v);
    g->add_points(static_cast<int64_t>(points));
  }
  g->add_lo(0);
  g->add_hi(static_cast<double>(n - 1));
  g->add_points(n);
  return req;
}

// Trajectories whose tag is not their row (missing, repeated or out of order ones).
int64_t Misplaced(const SolveResult& r) {
  int64_t bad = 0;
  for (int64_t i = 0; i < r.trajectories; ++i) {
    if (std::llround(r.state(i, 0, 3)) != i) ++bad;
  }
  return bad;
}

struct Server {
  std::unique_ptr<Subprocess> process;
  int port = 0;
  int metrics_port = 0;
  std::string address() const { return absl::StrCat("127.0.0.1:", port); }
  double Solved() const {
    absl::StatusOr<std::string> m = HttpGet(metrics_port, "/metrics");
    return m.ok() ? MetricValue(*m, "ensolve_trajectories_solved_total") : -1;
  }
};

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = TempDir();
    for (int i = 0; i < 3; ++i) {
      const std::string p = absl::StrCat(dir, "/port", i), m = absl::StrCat(dir, "/metrics", i);
      auto proc = Subprocess::Start(
          {ENSOLVED_PATH, "--address=127.0.0.1:0", "--port_file=" + p, "--metrics_host=127.0.0.1",
           "--metrics_port=0", "--metrics_port_file=" + m, "--devices=cpu", "--threads=1"},
          absl::StrCat(dir, "/ensolved", i, ".log"));
      ASSERT_TRUE(proc.ok()) << proc.status();
      Server s;
      s.process = std::move(*proc);
      absl::StatusOr<int> port = ReadPortFile(p, absl::Seconds(20));
      absl::StatusOr<int> mport = ReadPortFile(m, absl::Seconds(20));
      ASSERT_TRUE(port.ok() && mport.ok()) << "ensolved " << i << " did not start";
      s.port = *port;
      s.metrics_port = *mport;
      servers_.push_back(std::move(s));
    }
    std::vector<std::string> addresses;
    for (const Server& s : servers_) addresses.push_back(s.address());
    target_ = absl::StrJoin(addresses, ",");
    absl::StatusOr<std::unique_ptr<ShardedClient>> c = ShardedClient::Connect(target_);
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = std::move(*c);
  }

  std::vector<Server> servers_;
  std::string target_;
  std::unique_ptr<ShardedClient> client_;
};

TEST_F(ScaleOutTest, EveryTrajectoryOnceAndEveryServerTakesAShare) {
  const v1::SolveRequest req = TaggedRequest(kTrajectories);
  ShardStats stats;
  const absl::Time start = absl::Now();
  absl::StatusOr<SolveResult> r = client_->Solve(req, {}, &stats);
  ASSERT_TRUE(r.ok()) << r.status();
  std::printf("%lld trajectories over 3 servers in %.2f s: %d shards, %d retries\n",
              static_cast<long long>(kTrajectories), absl::ToDoubleSeconds(absl::Now() - start),
              stats.shards, stats.retries);

  ASSERT_EQ(r->trajectories, kTrajectories);
  ASSERT_EQ(r->retcodes.size(), static_cast<size_t>(kTrajectories));
  EXPECT_EQ(Misplaced(*r), 0);
  EXPECT_EQ(r->summary.retcode_counts().at("success"), kTrajectories);
  EXPECT_EQ(stats.retries, 0);

  // Each server's own count: all three worked, and together they solved each trajectory
  // once (no shard ran twice).
  double total = 0;
  for (const Server& s : servers_) {
    const double solved = s.Solved();
    std::printf("  %s solved %.0f\n", s.address().c_str(), solved);
    EXPECT_GT(solved, 0) << s.address();
    total += solved;
  }
  EXPECT_EQ(total, kTrajectories);
  EXPECT_EQ(stats.trajectories_by_server.size(), 3u);
  // The merged summary: every shard's job and batches, each server's device.
  EXPECT_EQ(std::count(r->accepted.job_id().begin(), r->accepted.job_id().end(), ',') + 1,
            stats.shards);
  EXPECT_GE(r->summary.batches(), stats.shards);
  EXPECT_EQ(r->accepted.batches(), r->summary.batches());
  EXPECT_EQ(r->summary.devices_size(), 3);
  EXPECT_EQ(r->summary.bytes_streamed(), kTrajectories * 4 * 8);

  // A range solved on its own, with first_trajectory, is the same as those rows of the
  // sharded result: the samplers were drawn at the ensemble's indices.
  constexpr int64_t kFirst = 123456, kCount = 1000;
  auto one = Client::Connect(servers_[1].address());
  absl::StatusOr<SolveResult> part = one->Solve(ShardRequest(req, kTrajectories, kFirst, kCount));
  ASSERT_TRUE(part.ok()) << part.status();
  for (int64_t i = 0; i < kCount; ++i) {
    for (int s = 0; s < 4; ++s) {
      ASSERT_EQ(part->state(i, 0, s), r->state(kFirst + i, 0, s)) << "trajectory " << kFirst + i;
    }
  }
}

TEST_F(ScaleOutTest, ServerKilledMidRunStillEveryTrajectoryOnce) {
  const v1::SolveRequest req = TaggedRequest(kTrajectories);
  ShardStats stats;
  absl::StatusOr<SolveResult> r = absl::UnknownError("not run");
  std::thread call([&] { r = client_->Solve(req, {}, &stats); });

  // Kill server 0 as soon as it has solved something: it still has shards in flight.
  Server& victim = servers_[0];
  const absl::Time until = absl::Now() + absl::Seconds(30);
  while (victim.Solved() <= 0 && absl::Now() < until) absl::SleepFor(absl::Milliseconds(2));
  const double before_kill = victim.Solved();
  victim.process->Signal(SIGKILL);
  call.join();
  ASSERT_GT(before_kill, 0) << "server 0 never started solving";
  ASSERT_TRUE(r.ok()) << r.status();
  std::printf("killed %s after it solved %.0f; %d shards, %d retried\n", victim.address().c_str(),
              before_kill, stats.shards, stats.retries);

  ASSERT_EQ(r->trajectories, kTrajectories);
  EXPECT_EQ(Misplaced(*r), 0);
  EXPECT_EQ(r->summary.retcode_counts().at("success"), kTrajectories);
  EXPECT_GE(stats.retries, 1);
  EXPECT_THAT(stats.failed_servers, Contains(victim.address()));
  int64_t kept = 0;
  for (const auto& [server, n] : stats.trajectories_by_server) kept += n;
  EXPECT_EQ(kept, kTrajectories);
  for (size_t i = 1; i < servers_.size(); ++i) EXPECT_GT(servers_[i].Solved(), 0);
}

// A port that refuses connections: bound, then closed.
int ClosedPort() {
  server::ServerConfig c = TestConfig();
  TestServer t = StartServer(c);
  const int port = t.server->port();
  t.server->Shutdown();
  return port;
}

TEST(ShardedClientTest, ServerDownFromTheStartIsSkipped) {
  TestServer live = StartServer();
  const std::string dead = absl::StrCat("127.0.0.1:", ClosedPort());
  auto client = ShardedClient::Connect(absl::StrCat(dead, ",", live.server->target()));
  ASSERT_TRUE(client.ok()) << client.status();
  ShardStats stats;
  absl::StatusOr<SolveResult> r = (*client)->Solve(TaggedRequest(30000), {}, &stats);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Misplaced(*r), 0);
  EXPECT_GE(stats.retries, 1);
  EXPECT_THAT(stats.failed_servers, ::testing::ElementsAre(dead));
  EXPECT_EQ(stats.trajectories_by_server.at(live.server->target()), 30000);
}

TEST(ShardedClientTest, OneServerOneShard) {
  TestServer t = StartServer();
  auto client = ShardedClient::Connect(t.server->target());
  ASSERT_TRUE(client.ok()) << client.status();
  ShardStats stats;
  absl::StatusOr<SolveResult> r = (*client)->Solve(TaggedRequest(15000), {}, &stats);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(stats.shards, 1);
  EXPECT_EQ(Misplaced(*r), 0);
  EXPECT_EQ(r->summary.retcode_counts().at("success"), 15000);
  EXPECT_EQ(r->summary.batches(), 2);
}

TEST(ShardedClientTest, RequestErrorsAreNotRetried) {
  TestServer a = StartServer(), b = StartServer();
  auto client = ShardedClient::Connect(absl::StrCat(a.server->target(), ",", b.server->target()));
  ASSERT_TRUE(client.ok()) << client.status();
  v1::SolveRequest bad = TaggedRequest(40000);
  bad.mutable_options()->set_algorithm("nope");
  ShardStats stats;
  absl::StatusOr<SolveResult> r = (*client)->Solve(bad, {}, &stats);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_EQ(stats.retries, 0);
  EXPECT_TRUE(stats.failed_servers.empty());
}

TEST(ShardedClientTest, EveryServerDownIsUnavailable) {
  auto client =
      ShardedClient::Connect(absl::StrCat("127.0.0.1:", ClosedPort(), ",127.0.0.1:", ClosedPort()));
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<SolveResult> r = (*client)->Solve(TaggedRequest(30000));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("every server failed"));
}

TEST(ShardedClientTest, TensorRowsAreSplitWithTheirTrajectories) {
  TestServer a = StartServer(), b = StartServer();
  auto client = ShardedClient::Connect(absl::StrCat(a.server->target(), ",", b.server->target()));
  ASSERT_TRUE(client.ok()) << client.status();
  // Parameters as a tensor, one row per trajectory, the tag in the last column; no
  // trajectories field: the rows say how many.
  constexpr int64_t n = 25001;
  v1::SolveRequest req = TaggedRequest(n);
  req.set_trajectories(0);
  std::vector<double> p(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) {
    p[i * 4 + 0] = 10;
    p[i * 4 + 1] = 28;
    p[i * 4 + 2] = 8.0 / 3;
    p[i * 4 + 3] = static_cast<double>(i);
  }
  v1::Tensor* t = req.mutable_params()->mutable_values();
  t->set_dtype(v1::DTYPE_FLOAT64);
  t->add_shape(n);
  t->add_shape(4);
  t->set_data(reinterpret_cast<const char*>(p.data()), p.size() * 8);
  ShardStats stats;
  absl::StatusOr<SolveResult> r = (*client)->Solve(req, {}, &stats);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->trajectories, n);
  EXPECT_EQ(Misplaced(*r), 0);
  EXPECT_EQ(stats.shards, 3);  // 25,001 / 10,000 rounded up
  EXPECT_EQ(stats.trajectories_by_server.size(), 2u);
}

}  // namespace
}  // namespace ensolve::testing
