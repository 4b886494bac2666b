// SDEs through the service: a seeded request equals the engine in process bit for bit, for
// any batch size and for requests split with first_trajectory; the seed changes the paths;
// the algorithm table's stochastic rows in GetServerInfo; and the request checks.
#include <cstring>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

constexpr char kGbm[] = "state x = 0.5\nparam mu = 1, sigma = 0.5\nx' = mu*x\nnoise x = sigma*x\n";

class ServiceSde : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(StartServer()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static Client& client() { return *server_->client; }
  static TestServer* server_;
};
TestServer* ServiceSde::server_ = nullptr;

v1::SolveRequest GbmRequest(const char* algorithm, int64_t n, uint64_t seed) {
  v1::SolveRequest req;
  req.set_model_source(kGbm);
  req.set_trajectories(n);
  req.set_seed(seed);
  v1::SolveOptions* o = req.mutable_options();
  o->set_algorithm(algorithm);
  o->set_dt(1.0 / 32);
  o->set_t1(1);
  o->mutable_saveat()->mutable_range()->set_start(0);
  o->mutable_saveat()->mutable_range()->set_stop(1);
  o->mutable_saveat()->mutable_range()->set_step(0.25);
  return req;
}

TEST_F(ServiceSde, SeededPathsEqualTheEngineForAnyBatching) {
  for (const char* algorithm : {"em", "siea"}) {
    SCOPED_TRACE(algorithm);
    const int64_t n = 1000;
    v1::SolveRequest req = GbmRequest(algorithm, n, 42);
    req.set_batch_size(300);  // 4 batches, the last one short
    absl::StatusOr<SolveResult> got = client().Solve(req);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->num_save, 5);

    // The engine in process: one batch, the same seed.
    auto model = Model::Parse(kGbm);
    ASSERT_TRUE(model.ok());
    SolveOptions o;
    o.algorithm = *ParseAlgorithm(algorithm);
    o.adaptive = false;
    o.dt = 1.0 / 32;
    o.saveat = {0, 0.25, 0.5, 0.75, 1};
    auto backend = NewCpuBackend(1);
    auto prepared = backend->Prepare(**model, o);
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    BatchInputs in{n};
    in.seed = 42;
    absl::StatusOr<BatchResult> want = backend->Solve(**prepared, o, in);
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_EQ(got->states.size(), want->states_f64.size());
    EXPECT_EQ(std::memcmp(got->states.data(), want->states_f64.data(),
                          got->states.size() * sizeof(double)),
              0);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got->accepted_steps[i], 32) << i;

    // The second half as a request of its own (first_trajectory = 500): the same paths.
    v1::SolveRequest half = GbmRequest(algorithm, 500, 42);
    half.set_first_trajectory(500);
    absl::StatusOr<SolveResult> second = client().Solve(half);
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(
        std::memcmp(second->states.data(), got->states.data() + 500 * 5, 500 * 5 * sizeof(double)),
        0);

    // Another seed: other paths (the initial states are the same).
    absl::StatusOr<SolveResult> other = client().Solve(GbmRequest(algorithm, n, 43));
    ASSERT_TRUE(other.ok()) << other.status();
    int differ = 0;
    for (int64_t i = 0; i < n; ++i) differ += other->state(i, 4, 0) != got->state(i, 4, 0);
    EXPECT_EQ(differ, n);
  }
}

TEST_F(ServiceSde, ServerInfoListsTheStochasticMethods) {
  absl::StatusOr<v1::ServerInfo> info = client().GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  int found = 0;
  for (const v1::AlgorithmInfo& a : info->algorithm_info()) {
    if (a.name() == "em" || a.name() == "siea") {
      ++found;
      EXPECT_TRUE(a.stochastic());
      EXPECT_FALSE(a.adaptive());
      EXPECT_EQ(a.order(), a.name() == "em" ? 1 : 2);
    } else {
      EXPECT_FALSE(a.stochastic()) << a.name();
    }
  }
  EXPECT_EQ(found, 2);
}

TEST_F(ServiceSde, RequestsThatDoNotFitAreInvalid) {
  auto expect = [&](const v1::SolveRequest& req, const std::string& message) {
    absl::StatusOr<SolveResult> r = client().Solve(req);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), message);
  };
  v1::SolveRequest ode = GbmRequest("em", 10, 1);
  ode.set_model_source("state x = 1\nx' = -x\n");
  expect(ode,
         "options.algorithm: em is an SDE method, but the model has no noise (no line noise x = "
         "...); use an ODE method such as tsit5");
  v1::SolveRequest tsit5 = GbmRequest("tsit5", 10, 1);
  expect(tsit5,
         "options.algorithm: tsit5 is an ODE method, but the model has noise (an SDE); use an SDE "
         "method: em or siea");
  v1::SolveRequest adaptive = GbmRequest("siea", 10, 1);
  adaptive.mutable_options()->set_adaptive(true);
  expect(adaptive,
         "options.adaptive: siea is a fixed-step SDE method; set adaptive = false and dt > 0");
  v1::SolveRequest no_dt = GbmRequest("em", 10, 1);
  no_dt.mutable_options()->set_dt(0);
  expect(no_dt, "options.dt: a fixed-step solve needs dt > 0");
  v1::SolveRequest matrix = GbmRequest("siea", 10, 1);
  matrix.set_model_source(
      "state x, y\nwiener A, B\nx' = 0\ny' = 0\nnoise x = dA - dB\nnoise y = dB\n");
  expect(matrix,
         "options.algorithm: siea needs diagonal noise (each state driven by at most one Wiener "
         "process), but state 'x' has terms in 2 Wiener processes; use em");
  v1::SolveRequest parse = GbmRequest("em", 10, 1);
  parse.set_model_source("state x\nwiener W\nx' = 0\nnoise x = dW*dW\n");
  expect(parse,
         "model_source: line 4, column 11: the noise of 'x' must be linear in the Wiener "
         "increments (a sum of coefficient * dW terms): 'dW' is multiplied by a Wiener "
         "increment");
}

}  // namespace
}  // namespace ensolve::testing
