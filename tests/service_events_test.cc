// Events through the service: each trajectory's events fired, termination times and return
// codes reach the C++ client; CompileModel describes a model's events.
#include <cmath>
#include <vector>

#include "client/tensor.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

class ServiceEvents : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(StartServer()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static Client& client() { return *server_->client; }
  static TestServer* server_;
};
TestServer* ServiceEvents::server_ = nullptr;

constexpr char kBall[] = R"(state h = 45, v = 0
param g = 10, e = 1
h' = v
v' = -g
when h crosses 0 down: v = -e*v
when h - 40 crosses 0 up: terminate
)";

// Trajectory i bounces with restitution e_i (at 3, 3 + 6e, 3 + 6e + 6e^2, ...); those that
// rise above 40 m after the first bounce (45 e^2 > 40) terminate there, at 3 + s with
// 30 e s - 5 s^2 = 40.
TEST_F(ServiceEvents, EventsFiredAndTerminationTimesReachTheClient) {
  v1::SolveRequest req;
  req.set_model_source(kBall);
  req.mutable_options()->set_algorithm("tsit5");
  req.mutable_options()->set_adaptive(false);
  req.mutable_options()->set_dt(0.01);
  req.mutable_options()->set_t1(10);
  // Restitutions well above zero: a small one makes the bounces Zeno-like before t1.
  const std::vector<double> e = {1, 0.6, 0.99, 0.7, 0.8};
  std::vector<double> p;
  for (double x : e) p.insert(p.end(), {10, x});
  const int64_t n = static_cast<int64_t>(e.size());
  *req.mutable_params()->mutable_values() = Float64Tensor(p, {n, 2});
  req.set_batch_size(2);
  absl::StatusOr<SolveResult> got = client().Solve(req);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->events_fired.size(), static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (45 * e[i] * e[i] > 40) {
      EXPECT_EQ(got->retcodes[i], v1::RET_CODE_TERMINATED) << i;
      const double v = 30 * e[i];
      EXPECT_NEAR(got->t_final[i], 3 + (v - std::sqrt(v * v - 800)) / 10, 1e-9) << i;
      EXPECT_EQ(got->events_fired[i], 2) << i;  // the bounce, then the terminating event
    } else {
      EXPECT_EQ(got->retcodes[i], v1::RET_CODE_SUCCESS) << i;
      EXPECT_EQ(got->t_final[i], 10) << i;
      int bounces = 0;
      for (double t = 3, speed = 30 * e[i]; t < 10 && bounces < 100;
           t += 2 * speed / 10, speed *= e[i]) {
        ++bounces;
      }
      ASSERT_LT(bounces, 100) << i;
      EXPECT_EQ(got->events_fired[i], bounces) << i;
    }
  }
  EXPECT_EQ(got->summary.retcode_counts().at("terminated"), 2);

  // A model without events sends none.
  req.set_model_source("state u = 1\nparam g, e\nu' = -u\n");
  got = client().Solve(req);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->events_fired.empty());
}

TEST_F(ServiceEvents, CompileModelDescribesEvents) {
  absl::StatusOr<v1::CompileModelResponse> r =
      client().CompileModel(std::string(kBall) + "at t = 1, 2.5: e = e/2, h = h\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->events_size(), 3);
  EXPECT_EQ(r->events(0).kind(), "when");
  EXPECT_EQ(r->events(0).direction(), "down");
  ASSERT_EQ(r->events(0).assigns_size(), 1);
  EXPECT_EQ(r->events(0).assigns(0), "v");
  EXPECT_FALSE(r->events(0).terminate());
  EXPECT_EQ(r->events(0).line(), 5);
  EXPECT_EQ(r->events(1).direction(), "up");
  EXPECT_TRUE(r->events(1).terminate());
  EXPECT_EQ(r->events(2).kind(), "at");
  ASSERT_EQ(r->events(2).times_size(), 2);
  EXPECT_EQ(r->events(2).times(1), 2.5);
  EXPECT_EQ(r->events(2).assigns(0), "e");
  EXPECT_EQ(r->events(2).assigns(1), "h");

  // A bad event is INVALID_ARGUMENT with its position.
  r = client().CompileModel("state x\nx' = 1\nat t = 2, 1: x = 0\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "model_source: line 3, column 11: event times must be increasing: 1 comes after 2");
}

}  // namespace
}  // namespace ensolve::testing
