// Forward sensitivities through ensolved on loopback: the chunks carry d(quantity)/dp
// bitwise equal to the engine's sensitivity model solved in-process (states, outputs,
// float32 and float64, several batches), the exponential decay's analytic sensitivity,
// SolveAccepted's parameter list, and request errors with their messages.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "client/tensor.h"
#include "engine/backend.h"
#include "engine/model/sensitivity.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

using ::testing::ElementsAre;

class ServiceSensitivities : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(StartServer()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static Client& client() { return *server_->client; }
  static TestServer* server_;
};
TestServer* ServiceSensitivities::server_ = nullptr;

// The engine's sensitivity model of `src` solved in-process: rows [q | m blocks of q].
absl::StatusOr<BatchResult> SolveSensitivitiesInProcess(const char* src,
                                                        const std::vector<std::string>& names,
                                                        SolveOptions o,
                                                        const std::vector<double>& p,
                                                        int64_t count) {
  auto base = Model::Parse(src);
  if (!base.ok()) return base.status();
  auto params = SensitivityParams(**base, names);
  if (!params.ok()) return params.status();
  auto model = BuildSensitivityModel(**base, *params);
  if (!model.ok()) return model.status();
  o.outputs = SensitivitySelection(o.outputs, names);
  std::unique_ptr<Backend> cpu = NewCpuBackend(2);
  auto prepared = cpu->Prepare(**model, o);
  if (!prepared.ok()) return prepared.status();
  return cpu->Solve(**prepared, o, BatchInputs{count, nullptr, 1, p.data(), count});
}

TEST_F(ServiceSensitivities, EqualTheEngineBitwise) {
  constexpr char kModel[] = R"(# Lorenz with an output
state x = 1, y = 0, z = 0
param sigma = 10, rho = 28, beta = 8/3
output r2 = x^2 + y^2
x' = sigma*(y - x)
y' = x*(rho - z) - y
z' = x*y - beta*z
)";
  const int64_t n = 300;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> unit(0.5, 1.5);
  std::vector<double> p(n * 3);
  for (int64_t i = 0; i < n * 3; ++i) p[i] = unit(rng) * (i % 3 == 0 ? 10 : i % 3 == 1 ? 28 : 2.6);
  for (bool outputs : {false, true}) {
    for (v1::Precision precision : {v1::PRECISION_FLOAT64, v1::PRECISION_FLOAT32}) {
      SCOPED_TRACE(::testing::Message() << "outputs " << outputs << " precision " << precision);
      v1::SolveRequest req;
      req.set_model_source(kModel);
      req.set_batch_size(128);  // 3 batches, the last one short
      req.mutable_options()->set_t1(1);
      req.mutable_options()->set_precision(precision);
      for (double t : {0.25, 0.5, 1.0}) req.mutable_options()->mutable_saveat()->add_times(t);
      *req.mutable_params()->mutable_values() = Float64Tensor(p, {n, 3});
      req.add_sensitivities("rho");
      req.add_sensitivities("sigma");
      SolveOptions o;
      o.t1 = 1;
      o.saveat = {0.25, 0.5, 1.0};
      o.precision = precision == v1::PRECISION_FLOAT32 ? Precision::kFloat32 : Precision::kFloat64;
      if (outputs) {
        req.add_outputs("r2");
        req.add_outputs("z");
        o.outputs = {"r2", "z"};
      }
      absl::StatusOr<SolveResult> got = client().Solve(req);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_THAT(got->accepted.sensitivities(), ElementsAre("rho", "sigma"));
      const int q = outputs ? 2 : 3;
      ASSERT_EQ(got->num_states, q);
      ASSERT_EQ(got->num_sensitivities, 2);
      ASSERT_EQ(got->sensitivities.size(), static_cast<size_t>(n * 3 * q * 2));
      auto want = SolveSensitivitiesInProcess(kModel, {"rho", "sigma"}, o, p, n);
      ASSERT_TRUE(want.ok()) << want.status();
      ASSERT_EQ(want->num_states, q * 3);
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(got->retcodes[i], 0) << i;
        for (int k = 0; k < 3; ++k) {
          for (int r = 0; r < q; ++r) {
            ASSERT_EQ(got->state(i, k, r), want->state(i, k, r)) << i;
            for (int j = 0; j < 2; ++j) {
              ASSERT_EQ(got->sensitivity(i, k, r, j), want->state(i, k, q + j * q + r))
                  << i << " " << k << " " << r << " " << j;
            }
          }
        }
      }
    }
  }
}

// u' = -k u from u0 = 2 (given, so du0/dk = 0): du/dk = -t u0 exp(-k t).
TEST_F(ServiceSensitivities, ExponentialDecayIsAnalytic) {
  v1::SolveRequest req;
  req.set_model_source("state u = 1\nparam k = 0.5\nu' = -k*u\n");
  req.mutable_options()->set_t1(3);
  req.mutable_options()->set_algorithm("vern9");
  req.mutable_options()->set_abstol(1e-12);
  req.mutable_options()->set_reltol(1e-12);
  for (double t : {1.0, 2.0, 3.0}) req.mutable_options()->mutable_saveat()->add_times(t);
  const std::vector<double> k = {0.3, 1.1};
  *req.mutable_params()->mutable_values() = Float64Tensor(k, {2, 1});
  *req.mutable_u0()->mutable_values() = Float64Tensor({2.0}, {1});
  req.add_sensitivities("k");
  absl::StatusOr<SolveResult> got = client().Solve(req);
  ASSERT_TRUE(got.ok()) << got.status();
  for (int i = 0; i < 2; ++i) {
    for (int s = 0; s < 3; ++s) {
      const double t = s + 1.0;
      EXPECT_NEAR(got->sensitivity(i, s, 0, 0), -t * 2 * std::exp(-k[i] * t), 1e-10);
    }
  }
}

// Across an event: u' = -k u with u = a u at t = 2, so u = 10 a e^{-kt} after it,
// du/dk = -t u and du/da = 10 e^{-kt}; an event that assigns a parameter is refused.
TEST_F(ServiceSensitivities, AcrossAnEventAndItsLimit) {
  v1::SolveRequest req;
  req.set_model_source("state u = 10\nparam k = 0.5, a = 2\nu' = -k*u\nat t = 2: u = a*u\n");
  req.set_trajectories(1);
  req.mutable_options()->set_t1(3);
  req.mutable_options()->set_abstol(1e-12);
  req.mutable_options()->set_reltol(1e-12);
  for (double t : {1.0, 3.0}) req.mutable_options()->mutable_saveat()->add_times(t);
  req.add_sensitivities("k");
  req.add_sensitivities("a");
  absl::StatusOr<SolveResult> got = client().Solve(req);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_NEAR(got->sensitivity(0, 0, 0, 0), -1 * 10 * std::exp(-0.5), 1e-9);
  EXPECT_NEAR(got->sensitivity(0, 0, 0, 1), 0, 1e-12);
  EXPECT_NEAR(got->sensitivity(0, 1, 0, 0), -3 * 20 * std::exp(-1.5), 1e-9);
  EXPECT_NEAR(got->sensitivity(0, 1, 0, 1), 10 * std::exp(-1.5), 1e-9);

  req.set_model_source("state u = 10\nparam k = 0.5\nu' = -k*u\nat t = 2: k = 2*k\n");
  req.clear_sensitivities();
  req.add_sensitivities("k");
  got = client().Solve(req);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status().message(),
            "sensitivities: the event at line 4, column 1 assigns parameter 'k'; sensitivities "
            "across events that assign parameters are not supported");
}

TEST_F(ServiceSensitivities, BadListsAreInvalidArgument) {
  v1::SolveRequest req;
  req.set_model_source(kLorenz);
  req.set_trajectories(1);
  req.mutable_options()->set_t1(1);
  req.add_sensitivities("rhoo");
  absl::StatusOr<SolveResult> got = client().Solve(req);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status().message(),
            "sensitivities[0]: 'rhoo' is not a parameter of the model (did you mean 'rho'?); "
            "expected one of sigma, rho, beta");
}

}  // namespace
}  // namespace ensolve::testing
