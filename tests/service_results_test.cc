// Results through the service are the engine's results: same values bit for bit, every
// trajectory exactly once, independent of batch size and of how the server samples inputs.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "client/tensor.h"
#include "engine/sampler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

// Bitwise equality of two double arrays (NaN-safe, -0 != +0).
::testing::AssertionResult SameBits(const std::vector<double>& a, const double* b, size_t n) {
  if (a.size() != n) return ::testing::AssertionFailure() << "sizes " << a.size() << " vs " << n;
  for (size_t i = 0; i < n; ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0) {
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << b[i];
    }
  }
  return ::testing::AssertionSuccess();
}

class ServiceResults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(StartServer()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static Client& client() { return *server_->client; }
  static TestServer* server_;
};
TestServer* ServiceResults::server_ = nullptr;

TEST_F(ServiceResults, EqualEngineInProcessExactly) {
  const int64_t n = 2000;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<double> p(n * 3), u0 = {1.0, 0.5, 0.25};
  for (int64_t i = 0; i < n; ++i) {
    p[i * 3 + 0] = 10 * unit(rng);
    p[i * 3 + 1] = 28 * unit(rng);
    p[i * 3 + 2] = 8.0 / 3 * unit(rng);
  }
  v1::SolveRequest req;
  req.set_model_source(kLorenz);
  req.set_batch_size(700);  // 3 batches, the last one short
  req.mutable_options()->set_t1(5);
  req.mutable_options()->mutable_saveat()->mutable_range()->set_start(0);
  req.mutable_options()->mutable_saveat()->mutable_range()->set_step(0.5);
  req.mutable_options()->mutable_saveat()->mutable_range()->set_stop(5);
  *req.mutable_params()->mutable_values() = Float64Tensor(p, {n, 3});
  *req.mutable_u0()->mutable_values() = Float64Tensor(u0, {3});

  absl::StatusOr<SolveResult> got = client().Solve(req);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->trajectories, n);  // trajectories implied by the parameter rows
  EXPECT_EQ(got->accepted.batches(), 3);
  ASSERT_EQ(got->num_save, 11);

  SolveOptions o;
  o.t1 = 5;
  for (int i = 0; i <= 10; ++i) o.saveat.push_back(i == 10 ? 5.0 : 0.5 * i);
  absl::StatusOr<BatchResult> want = SolveInProcess(kLorenz, o, n, u0, 1, p, n);
  ASSERT_TRUE(want.ok()) << want.status();
  EXPECT_TRUE(SameBits(got->states, want->states_f64.data(), want->states_f64.size()));
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(got->retcodes[i], static_cast<uint8_t>(want->retcodes[i])) << i;
    ASSERT_EQ(got->accepted_steps[i], want->stats[i].accepted) << i;
    ASSERT_EQ(got->rejected_steps[i], want->stats[i].rejected) << i;
  }
  EXPECT_EQ(got->summary.retcode_counts().at("success"), n);
}

// A state whose default is an expression of a parameter starts at each trajectory's own
// value when the request sends parameters (rows or a server-side sampler) and no u0.
TEST_F(ServiceResults, InitialStatesFollowEachTrajectorysParameters) {
  const char* model = "param th0 = 1\nstate th = th0, w = 0\nth' = w\nw' = -th\n";
  const std::vector<double> p = {0.5, 1.0, 2.0, -1.5};
  v1::SolveRequest req;
  req.set_model_source(model);
  req.mutable_options()->set_algorithm("rk4");
  req.mutable_options()->set_adaptive(false);
  req.mutable_options()->set_dt(1e-3);
  req.mutable_options()->set_t1(1);
  *req.mutable_params()->mutable_values() = Float64Tensor(p, {4, 1});
  absl::StatusOr<SolveResult> got = client().Solve(req);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->trajectories, 4);
  for (int i = 0; i < 4; ++i) {  // th(t) = th0 cos t
    EXPECT_NEAR(got->states[2 * i], p[i] * std::cos(1.0), 1e-10) << i;
  }

  req.clear_params();
  req.set_trajectories(50);
  v1::Sampler* s = req.mutable_params()->mutable_sampler();
  s->set_seed(3);
  s->mutable_uniform()->add_lo(-2);
  s->mutable_uniform()->add_hi(2);
  got = client().Solve(req);
  ASSERT_TRUE(got.ok()) << got.status();
  auto sampler = Sampler::Create(SamplerSpec{SamplerKind::kUniform, 3, {-2}, {2}, {}}, 1);
  ASSERT_TRUE(sampler.ok());
  for (int64_t i = 0; i < 50; ++i) {
    EXPECT_NEAR(got->states[2 * i], sampler->Value(i, 0) * std::cos(1.0), 1e-10) << i;
  }
}

// Every trajectory says how far it got: one stopped by max_steps reports its final time and
// NaN at the save points it never reached; a stiff method's counts come back too.
TEST_F(ServiceResults, FinalTimesStepCountsAndNaNForUnreachedSaves) {
  v1::SolveRequest req;
  req.set_model_source("param k = 1\nstate u = 1\nu' = -k*u\n");
  req.mutable_options()->set_algorithm("rk4");
  req.mutable_options()->set_adaptive(false);
  req.mutable_options()->set_dt(0.01);
  req.mutable_options()->set_t1(1);
  req.mutable_options()->set_max_steps(50);
  req.mutable_options()->mutable_saveat()->add_times(0.25);
  req.mutable_options()->mutable_saveat()->add_times(0.75);
  req.set_trajectories(3);
  absl::StatusOr<SolveResult> got = client().Solve(req);
  ASSERT_TRUE(got.ok()) << got.status();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got->retcodes[i], v1::RET_CODE_MAX_STEPS) << i;
    EXPECT_NEAR(got->t_final[i], 0.5, 1e-12) << i;
    EXPECT_NEAR(got->states[2 * i], std::exp(-0.25), 1e-8) << i;
    EXPECT_TRUE(std::isnan(got->states[2 * i + 1])) << i;
    EXPECT_EQ(got->accepted_steps[i], 50) << i;
    EXPECT_EQ(got->rhs_evals[i], 200) << i;
  }
  EXPECT_EQ(got->summary.retcode_counts().at("max_steps"), 3);

  // Robertson with rosenbrock23 (the symbolic Jacobian and df/dt at work), backward
  // integration of the decay, each through the service.
  req = v1::SolveRequest();
  req.set_model_source(
      "param k1 = 0.04, k2 = 3e7, k3 = 1e4\nstate y1 = 1, y2 = 0, y3 = 0\n"
      "y1' = -k1*y1 + k3*y2*y3\ny2' = k1*y1 - k2*y2^2 - k3*y2*y3\ny3' = k2*y2^2\n");
  req.mutable_options()->set_algorithm("rosenbrock23");
  req.mutable_options()->set_t1(1e5);
  req.mutable_options()->set_abstol(1e-8);
  req.mutable_options()->set_reltol(1e-6);
  req.set_trajectories(2);
  got = client().Solve(req);
  ASSERT_TRUE(got.ok()) << got.status();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(got->retcodes[i], v1::RET_CODE_SUCCESS) << i;
    EXPECT_EQ(got->t_final[i], 1e5) << i;
    EXPECT_LT(got->accepted_steps[i], 3000) << i;
    const double* y = &got->states[3 * i];
    EXPECT_NEAR(y[0] + y[1] + y[2], 1.0, 1e-6) << i;
    EXPECT_NEAR(y[0], 0.0178, 5e-4) << i;  // y1(1e5) = 1.786e-2 (Hairer & Wanner II, IV.10)
  }
  req = v1::SolveRequest();
  req.set_model_source("state u = 1\nu' = -u\n");
  req.mutable_options()->set_t0(2);
  req.mutable_options()->set_t1(0);
  req.mutable_options()->set_abstol(1e-10);
  req.mutable_options()->set_reltol(1e-10);
  req.set_trajectories(1);
  got = client().Solve(req);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_NEAR(got->states[0], std::exp(2.0), 1e-7);
  EXPECT_EQ(got->t_final[0], 0.0);
}

// A selection of states and named outputs equals the same values computed from the full
// output; the inputs used come back on request, sampled ones included.
TEST_F(ServiceResults, OutputSelectionAndReturnedInputs) {
  const char* model =
      "param k = 1, w = 2\nstate x = 1, y = 0\nx' = -k*x + y\ny' = -w*x\n"
      "output energy = x^2 + y^2\noutput t2 = 2*t\n";
  v1::SolveRequest full;
  full.set_model_source(model);
  full.mutable_options()->set_abstol(1e-9);
  full.mutable_options()->set_reltol(1e-9);
  full.mutable_options()->set_t1(2);
  for (double t : {0.0, 0.5, 1.3, 2.0}) full.mutable_options()->mutable_saveat()->add_times(t);
  full.set_trajectories(40);
  v1::Sampler* s = full.mutable_params()->mutable_sampler();
  s->set_seed(5);
  for (double v : {0.5, 1.0}) s->mutable_uniform()->add_lo(v);
  for (double v : {2.0, 3.0}) s->mutable_uniform()->add_hi(v);
  v1::SolveRequest sel = full;
  for (const char* name : {"energy", "y", "t2"}) sel.add_outputs(name);
  sel.set_return_inputs(true);
  absl::StatusOr<SolveResult> a = client().Solve(full);
  absl::StatusOr<SolveResult> b = client().Solve(sel);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(b->accepted.state_names(), ::testing::ElementsAre("energy", "y", "t2"));
  ASSERT_EQ(b->num_states, 3);
  EXPECT_TRUE(a->params.empty());
  ASSERT_EQ(b->params.size(), 80u);
  ASSERT_EQ(b->u0_used.size(), 80u);
  auto sampler =
      Sampler::Create(SamplerSpec{SamplerKind::kUniform, 5, {0.5, 1.0}, {2.0, 3.0}, {}}, 2);
  ASSERT_TRUE(sampler.ok());
  const double times[] = {0.0, 0.5, 1.3, 2.0};
  for (int64_t i = 0; i < 40; ++i) {
    EXPECT_EQ(b->params[2 * i], sampler->Value(i, 0)) << i;
    EXPECT_EQ(b->params[2 * i + 1], sampler->Value(i, 1)) << i;
    EXPECT_EQ(b->u0_used[2 * i], 1.0);
    EXPECT_EQ(b->u0_used[2 * i + 1], 0.0);
    for (int k = 0; k < 4; ++k) {
      const double x = a->state(i, k, 0), y = a->state(i, k, 1);
      EXPECT_DOUBLE_EQ(b->state(i, k, 0), x * x + y * y) << i << " " << k;
      EXPECT_EQ(b->state(i, k, 1), y) << i << " " << k;  // the same solve, bit for bit
      EXPECT_DOUBLE_EQ(b->state(i, k, 2), 2 * times[k]);
    }
  }
  // The final-state form.
  sel.mutable_options()->clear_saveat();
  sel.clear_outputs();
  sel.add_outputs("energy");
  absl::StatusOr<SolveResult> c = client().Solve(sel);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->num_save, 1);
  for (int64_t i = 0; i < 40; ++i) {
    const double x = a->state(i, 3, 0), y = a->state(i, 3, 1);
    // The final state itself, where the saveat run interpolated at t1: equal to rounding.
    EXPECT_NEAR(c->state(i, 0, 0), x * x + y * y, 1e-12) << i;
  }
  // A name the model does not have, and one named twice.
  sel.clear_outputs();
  sel.add_outputs("energy");
  sel.add_outputs("enrgy");
  EXPECT_THAT(client().Solve(sel).status().message(),
              ::testing::HasSubstr("outputs[1]: 'enrgy' is neither a state nor an output of the "
                                   "model; expected one of x, y, energy, t2"));
  sel.clear_outputs();
  sel.add_outputs("x");
  sel.add_outputs("x");
  EXPECT_THAT(client().Solve(sel).status().message(),
              ::testing::HasSubstr("outputs[1]: 'x' is already outputs[0]"));
}

TEST_F(ServiceResults, Float32FixedStepEqualsEngine) {
  const int64_t n = 300;
  std::vector<double> p = {10, 28, 8.0 / 3};
  std::vector<double> u0(n * 3);
  for (int64_t i = 0; i < n; ++i) u0[i * 3] = 1 + 0.01 * i;
  v1::SolveRequest req;
  req.set_model_source(kLorenz);
  req.set_batch_size(128);
  auto* o = req.mutable_options();
  o->set_algorithm("rk4");
  o->set_precision(v1::PRECISION_FLOAT32);
  o->set_t1(2);
  o->set_dt(0.01);
  o->mutable_saveat()->add_times(1);
  o->mutable_saveat()->add_times(2);
  *req.mutable_u0()->mutable_values() = Float64Tensor(u0, {n, 3});
  absl::StatusOr<SolveResult> got = client().Solve(req);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->dtype, v1::DTYPE_FLOAT32);

  SolveOptions eo;
  eo.algorithm = Algorithm::kRK4;
  eo.adaptive = false;
  eo.precision = Precision::kFloat32;
  eo.t1 = 2;
  eo.dt = 0.01;
  eo.saveat = {1, 2};
  absl::StatusOr<BatchResult> want = SolveInProcess(kLorenz, eo, n, u0, n, p, 1);
  ASSERT_TRUE(want.ok()) << want.status();
  std::vector<double> widened(want->states_f32.begin(), want->states_f32.end());
  EXPECT_TRUE(SameBits(got->states, widened.data(), widened.size()));
}

// 25,001 trajectories in batches of 10,000: every index comes exactly once, in chunks of at
// most 2 MiB, and the values equal one batch of 25,001.
TEST_F(ServiceResults, EveryTrajectoryOnceAndIndependentOfBatchSize) {
  const int64_t n = 25001;
  v1::SolveRequest req = LorenzRequest(n, 1.0);
  auto* range = req.mutable_options()->mutable_saveat()->mutable_range();
  range->set_start(0);
  range->set_step(0.125);
  range->set_stop(1);
  req.set_batch_size(10000);

  std::vector<int> seen(n, 0);
  int64_t chunks = 0;
  ResultAssembler assembler;
  absl::Status s = client().SolveStream(req, [&](const v1::SolveResponse& r) {
    if (r.has_accepted()) {
      EXPECT_EQ(r.accepted().batches(), 3);
      EXPECT_EQ(r.accepted().batch_size(), 10000);
    }
    if (r.has_chunk()) {
      ++chunks;
      EXPECT_LE(r.chunk().states().data().size(), size_t{2} << 20);
      for (int64_t i = r.chunk().first(); i < r.chunk().first() + r.chunk().count(); ++i) {
        ++seen[i];
      }
    }
    return assembler.Add(r);
  });
  ASSERT_TRUE(s.ok()) << s;
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << "trajectory " << i;
  EXPECT_GE(chunks, 3);  // at least one chunk per batch
  absl::StatusOr<SolveResult> small = assembler.Take();
  ASSERT_TRUE(small.ok()) << small.status();

  req.set_batch_size(n);
  absl::StatusOr<SolveResult> whole = client().Solve(req);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->accepted.batches(), 1);
  EXPECT_TRUE(SameBits(small->states, whole->states.data(), whole->states.size()));
  EXPECT_EQ(small->retcodes, whole->retcodes);
  EXPECT_EQ(small->accepted_steps, whole->accepted_steps);
}

// Server-side samplers give trajectory i the same inputs whatever the batch size, and those
// inputs are exactly Sampler::Fill's.
TEST_F(ServiceResults, SamplersAreDeterministicAcrossBatchSizes) {
  const int64_t n = 1500;
  v1::SolveRequest req = LorenzRequest(n, 0.5, /*seed=*/99);
  v1::Sampler* u0s = req.mutable_u0()->mutable_sampler();
  u0s->set_seed(7);
  for (double m : {1.0, 0.0, 0.0}) u0s->mutable_normal()->add_mean(m);
  for (double sd : {0.1, 0.1, 0.0}) u0s->mutable_normal()->add_stddev(sd);

  std::vector<SolveResult> results;
  for (int64_t batch : {n, int64_t{1}, int64_t{7}, int64_t{400}}) {
    req.set_batch_size(batch);
    absl::StatusOr<SolveResult> r = client().Solve(req);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->accepted.batch_size(), batch);
    results.push_back(std::move(*r));
  }
  for (size_t k = 1; k < results.size(); ++k) {
    EXPECT_TRUE(SameBits(results[k].states, results[0].states.data(), results[0].states.size()))
        << "batch size variant " << k;
  }

  // The reference: the engine fed with the sampler's values.
  SamplerSpec ps{SamplerKind::kUniform, 99, {0, 0, 0}, {10, 28, 8.0 / 3}, {}};
  SamplerSpec us{SamplerKind::kNormal, 7, {1, 0, 0}, {0.1, 0.1, 0}, {}};
  auto psam = Sampler::Create(ps, 3);
  auto usam = Sampler::Create(us, 3);
  ASSERT_TRUE(psam.ok() && usam.ok());
  std::vector<double> p(n * 3), u0(n * 3);
  psam->Fill(0, n, p.data());
  usam->Fill(0, n, u0.data());
  SolveOptions o;
  o.t1 = 0.5;
  absl::StatusOr<BatchResult> want = SolveInProcess(kLorenz, o, n, u0, n, p, n);
  ASSERT_TRUE(want.ok());
  EXPECT_TRUE(SameBits(results[0].states, want->states_f64.data(), want->states_f64.size()));

  // Another seed gives other trajectories.
  req.mutable_params()->mutable_sampler()->set_seed(100);
  absl::StatusOr<SolveResult> other = client().Solve(req);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->states, results[0].states);
}

TEST_F(ServiceResults, GridSamplerImpliesTrajectoriesAndModelIdReuse) {
  absl::StatusOr<v1::CompileModelResponse> m = client().CompileModel(kLorenz);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_THAT(m->state_names(), ::testing::ElementsAre("x", "y", "z"));
  EXPECT_THAT(m->param_names(), ::testing::ElementsAre("sigma", "rho", "beta"));

  v1::SolveRequest req;
  req.set_model_id(m->model_id());
  req.mutable_options()->set_t1(0.5);
  v1::Grid* g = req.mutable_params()->mutable_sampler()->mutable_grid();
  for (double v : {10.0, 0.0, 8.0 / 3}) g->add_lo(v);
  for (double v : {10.0, 28.0, 8.0 / 3}) g->add_hi(v);
  for (int64_t k : {1, 15, 1}) g->add_points(k);
  absl::StatusOr<SolveResult> r = client().Solve(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->trajectories, 15);
  EXPECT_EQ(r->accepted.model_id(), m->model_id());
  // rho = 0: the origin attracts, so x decays from 1.
  EXPECT_LT(std::abs(r->state(0, 0, 0)), 1.0);
}

}  // namespace
}  // namespace ensolve::testing
