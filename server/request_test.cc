// Request validation without a network: defaults, save-time expansion, shapes, limits.
#include "server/request.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kDecay[] = "state x = 2\nparam k = 0.5\nx' = -k*x\n";

v1::Tensor Doubles(std::vector<double> v, std::vector<int64_t> shape) {
  v1::Tensor t;
  t.set_dtype(v1::DTYPE_FLOAT64);
  for (int64_t d : shape) t.add_shape(d);
  t.set_data(reinterpret_cast<const char*>(v.data()), v.size() * 8);
  return t;
}

class RequestTest : public ::testing::Test {
 protected:
  RequestTest() : cache_(8, int64_t{1} << 30, ModelLimits{}, nullptr) {}
  absl::StatusOr<JobSpec> Build(const v1::SolveRequest& r) {
    return BuildJobSpec(r, config_, cache_, "t");
  }
  v1::SolveRequest Decay(int64_t n) {
    v1::SolveRequest r;
    r.set_model_source(kDecay);
    r.set_trajectories(n);
    r.mutable_options()->set_t1(1);
    return r;
  }
  ServerConfig config_;
  ModelCache cache_;
};

TEST_F(RequestTest, DefaultsApplied) {
  absl::StatusOr<JobSpec> s = Build(Decay(25001));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->trajectories, 25001);
  EXPECT_EQ(s->batch_size, 10000);
  EXPECT_EQ(s->num_batches(), 3);
  EXPECT_EQ(s->options.algorithm, Algorithm::kTsit5);
  EXPECT_TRUE(s->options.adaptive);
  EXPECT_EQ(s->options.abstol, 1e-6);
  EXPECT_EQ(s->options.reltol, 1e-3);
  EXPECT_THAT(s->save_times, ElementsAre(1.0));  // final state only
  EXPECT_TRUE(s->u0.values.empty());             // left to the backend: the model's defaults
  EXPECT_TRUE(s->params.values.empty());
  EXPECT_EQ(s->u0.rows, 1);
}

TEST_F(RequestTest, FixedStepAlgorithmsDefaultToNonAdaptive) {
  v1::SolveRequest r = Decay(1);
  r.mutable_options()->set_algorithm("rk4");
  r.mutable_options()->set_dt(0.1);
  absl::StatusOr<JobSpec> s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->options.adaptive);
  r.mutable_options()->set_adaptive(true);  // euler/rk4 have no error estimate
  EXPECT_THAT(Build(r).status().message(), HasSubstr("options.adaptive: rk4 has no error"));
  r.mutable_options()->set_algorithm("tsit5");
  r.mutable_options()->set_adaptive(false);
  EXPECT_FALSE(Build(r)->options.adaptive);
}

TEST_F(RequestTest, DefaultBatchesOfSaveatHeavyJobsAreCutToTheOutputTarget) {
  v1::SolveRequest r = Decay(100000);
  r.mutable_options()->mutable_saveat()->mutable_range()->set_step(0.001);
  r.mutable_options()->mutable_saveat()->mutable_range()->set_stop(1);
  config_.batch_output_bytes = 8008 * 100;  // 1001 saves x 8 bytes = 8008 per trajectory
  EXPECT_EQ(Build(r)->batch_size, 100);
  r.set_batch_size(5000);  // an explicit batch size is the client's call
  EXPECT_EQ(Build(r)->batch_size, 5000);
}

TEST_F(RequestTest, BatchSizeIsClampedToTheServerMaximumAndTheJob) {
  v1::SolveRequest r = Decay(500);
  r.set_batch_size(10000000);
  EXPECT_EQ(Build(r)->batch_size, 500);
  config_.max_batch_size = 64;
  EXPECT_EQ(Build(r)->batch_size, 64);
  r.set_batch_size(-1);
  EXPECT_THAT(Build(r).status().message(), HasSubstr("batch_size"));
}

TEST(SaveTimes, RangeIncludesStopAndAvoidsDrift) {
  v1::SaveAt s;
  s.mutable_range()->set_start(0);
  s.mutable_range()->set_step(0.1);
  s.mutable_range()->set_stop(10);
  absl::StatusOr<std::vector<double>> t = SaveTimes(s, 1000);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 101u);
  EXPECT_EQ(t->back(), 10.0);               // exactly t1, not 10.000000000000002
  EXPECT_EQ((*t)[3], 0.30000000000000004);  // start + i*step, no accumulation
  EXPECT_EQ(SaveTimes(s, 100).status().code(), absl::StatusCode::kResourceExhausted);

  s.mutable_range()->set_step(0);
  EXPECT_EQ(SaveTimes(s, 1000).status().code(), absl::StatusCode::kInvalidArgument);
  s.mutable_range()->set_step(0.3);  // 0, 0.3, ..., 9.9: stop is not on the grid
  EXPECT_EQ(SaveTimes(s, 1000)->back(), 0.3 * 33);
  s.add_times(1);
  EXPECT_THAT(SaveTimes(s, 1000).status().message(), HasSubstr("not both"));
}

TEST_F(RequestTest, TensorInputsRowsAndDtypes) {
  v1::SolveRequest r = Decay(0);
  *r.mutable_u0()->mutable_values() = Doubles({1, 2, 3}, {3, 1});
  absl::StatusOr<JobSpec> s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->trajectories, 3);  // implied by the rows
  EXPECT_EQ(s->u0.rows, 3);

  // float32 values are widened.
  v1::Tensor f;
  f.set_dtype(v1::DTYPE_FLOAT32);
  f.add_shape(1);
  const float one_third = 1.0f / 3;
  f.set_data(reinterpret_cast<const char*>(&one_third), 4);
  r = Decay(4);
  *r.mutable_params()->mutable_values() = f;
  s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->params.values[0], static_cast<double>(one_third));

  // A huge declared shape cannot overflow the size check.
  r = Decay(0);
  *r.mutable_u0()->mutable_values() = Doubles({1}, {int64_t{1} << 62, 1});
  EXPECT_THAT(Build(r).status().message(), HasSubstr("u0.values: data has 8 bytes"));

  r = Decay(0);
  v1::Tensor ints = Doubles({1}, {1});
  ints.set_dtype(v1::DTYPE_INT32);
  *r.mutable_u0()->mutable_values() = ints;
  EXPECT_THAT(Build(r).status().message(), HasSubstr("u0.values: dtype"));
}

TEST_F(RequestTest, GridSamplerBoundsTrajectories) {
  v1::SolveRequest r = Decay(0);
  v1::Grid* g = r.mutable_params()->mutable_sampler()->mutable_grid();
  g->add_lo(0);
  g->add_hi(1);
  g->add_points(11);
  EXPECT_EQ(Build(r)->trajectories, 11);
  r.set_trajectories(12);
  EXPECT_THAT(Build(r).status().message(), HasSubstr("params.sampler.grid: has 11 points"));
}

TEST_F(RequestTest, FirstTrajectoryOffsetsSamplers) {
  v1::SolveRequest r = Decay(0);
  v1::Grid* g = r.mutable_params()->mutable_sampler()->mutable_grid();
  g->add_lo(0);
  g->add_hi(10);
  g->add_points(11);
  r.set_first_trajectory(4);
  absl::StatusOr<JobSpec> s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->first_trajectory, 4);
  EXPECT_EQ(s->trajectories, 7);  // grid points 4..10
  // Batch k of the job draws the sampler at first_trajectory + its own first row.
  const BatchInputs in = MakeBatchInputs(*s, 2, 3);
  EXPECT_EQ(in.first, 6);
  EXPECT_EQ(in.p_sampler->Value(in.first, 0), 6.0);

  r.set_trajectories(8);  // 4 + 8 > 11 points
  EXPECT_THAT(Build(r).status().message(),
              HasSubstr("fewer than first_trajectory + trajectories = 4 + 8"));
  r.set_first_trajectory(-1);
  EXPECT_THAT(Build(r).status().message(), HasSubstr("first_trajectory: must be >= 0"));
}

TEST_F(RequestTest, OutputLimits) {
  config_.max_chunk_bytes = 1000;
  v1::SolveRequest r = Decay(10);
  r.mutable_options()->mutable_saveat()->mutable_range()->set_step(0.001);
  r.mutable_options()->mutable_saveat()->mutable_range()->set_stop(1);
  absl::StatusOr<JobSpec> s = Build(r);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.status().message(), HasSubstr("--max_chunk_bytes"));
}

// t0, t1 and saveat tensors: one shared row goes into the options; rows per trajectory into
// the spec, imply the trajectory count and are validated row by row.
TEST_F(RequestTest, PerTrajectorySpans) {
  v1::SolveRequest r = Decay(0);
  *r.mutable_t0() = Doubles({0.5}, {1});
  *r.mutable_t1() = Doubles({1, 2, -1}, {3});
  absl::StatusOr<JobSpec> s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->trajectories, 3);
  EXPECT_EQ(s->options.t0, 0.5);
  EXPECT_TRUE(s->options.span_per_trajectory);
  EXPECT_TRUE(s->t0.empty());
  EXPECT_THAT(s->t1, ElementsAre(1, 2, -1));
  // Only the final state, at each trajectory's own t1: per-trajectory save times.
  EXPECT_TRUE(s->per_trajectory_save_times());
  EXPECT_TRUE(s->save_times.empty());
  double t = 0;
  s->SaveTimesOf(2, &t);
  EXPECT_EQ(t, -1);

  *r.mutable_saveat() = Doubles({0.5, 0.75, 0.5, 1.5, 0.5, -0.5}, {3, 2});
  s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->options.saveat_per_trajectory, 2);
  EXPECT_EQ(s->num_save(), 2);
  double times[2];
  s->SaveTimesOf(1, times);
  EXPECT_THAT(times, ElementsAre(0.5, 1.5));
  BatchInputs in = MakeBatchInputs(*s, 1, 2);
  EXPECT_EQ(in.t0, nullptr);
  EXPECT_EQ(in.t1[0], 2);
  EXPECT_EQ(in.saveat[2], 0.5);

  // A shared saveat row within every span: the save times are shared again.
  *r.mutable_saveat() = Doubles({0.5}, {1, 1});
  s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->per_trajectory_save_times());
  EXPECT_THAT(s->save_times, ElementsAre(0.5));

  auto fails = [&](const v1::SolveRequest& bad, const char* message) {
    absl::StatusOr<JobSpec> b = Build(bad);
    ASSERT_FALSE(b.ok()) << message;
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(b.status().message(), HasSubstr(message));
  };
  v1::SolveRequest bad = r;
  *bad.mutable_saveat() = Doubles({0.5, 0.75, 0.5, 1.5, 0.75, 0.25}, {3, 2});
  fails(bad, "t0, t1, saveat: trajectory 2: saveat[0]: 0.75 is outside [t0, t1] = [0.5, -1]");
  *bad.mutable_saveat() = Doubles({0.75, 0.5, 0.5, 1.5, 0.5, -0.5}, {3, 2});
  fails(bad, "trajectory 0: saveat[1]: 0.5 is not greater than saveat[0] = 0.75");
  bad = r;
  *bad.mutable_t1() = Doubles({1, 0.5, 2}, {3});
  fails(bad, "trajectory 1: t1: must differ from t0 (both are 0.5)");
  *bad.mutable_t1() = Doubles({1, 2}, {2, 1});
  fails(bad, "t1: shape [2, 1] must be [trajectories] (one value each) or [1] (shared)");
  *bad.mutable_t1() = Doubles({1, 2}, {2});
  *bad.mutable_t0() = Doubles({0, 0, 0}, {3});
  fails(bad, "t1: 2 rows, but another per-trajectory input has 3");
  bad = r;
  bad.mutable_options()->mutable_saveat()->add_times(0.5);
  fails(bad, "saveat: set it or options.saveat, not both");
  bad = r;
  *bad.mutable_params()->mutable_values() = Doubles({1, 2}, {2, 1});
  fails(bad, "t0, t1, saveat: 3 rows, but params.values has 2");
  bad = r;
  bad.set_trajectories(4);
  fails(bad, "t0, t1, saveat: 3 rows, but trajectories = 4");
}

TEST_F(RequestTest, RequestIdIsBounded) {
  v1::SolveRequest r = Decay(1);
  r.set_request_id(std::string(200, 'x'));
  EXPECT_THAT(Build(r).status().message(), HasSubstr("request_id"));
}

// SolveRequest.sensitivities: the sensitivity model from the cache, the selection expanded,
// the output counted with its sensitivities, and every bad list named.
TEST_F(RequestTest, Sensitivities) {
  v1::SolveRequest r;
  r.set_model_source(
      "state x = 2, y = 1\nparam k = 0.5, c = 1\noutput e = x*y\nx' = -k*x\n"
      "y' = c*x - y\n");
  r.set_trajectories(3);
  r.mutable_options()->set_t1(1);
  r.add_sensitivities("c");
  r.add_sensitivities("k");
  absl::StatusOr<JobSpec> s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->sensitivities, ElementsAre("c", "k"));
  EXPECT_EQ(s->sensitivity_model->num_states(), 6);
  EXPECT_EQ(s->solved_model()->num_states(), 6);
  EXPECT_EQ(s->num_states(), 2);
  EXPECT_EQ(s->values_per_save(), 6);
  EXPECT_EQ(s->bytes_per_trajectory(), 6 * 8);
  EXPECT_TRUE(s->sensitivity_options.outputs.empty());
  // Cached by (model, parameter list): a second request shares the model.
  absl::StatusOr<JobSpec> again = Build(r);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sensitivity_model.get(), s->sensitivity_model.get());
  EXPECT_TRUE(cache_.ContainsSensitivityModel("t", r.model_source(), false, {"c", "k"}));
  EXPECT_FALSE(cache_.ContainsSensitivityModel("t", r.model_source(), false, {"k", "c"}));
  EXPECT_TRUE(cache_.ContainsSensitivityModel("t", s->model->hash(), true, {"c", "k"}));

  r.add_outputs("e");
  r.add_outputs("x");
  s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->options.outputs, ElementsAre("e", "x"));
  EXPECT_THAT(s->sensitivity_options.outputs,
              ElementsAre("e", "x", "d(e)/d(c)", "d(x)/d(c)", "d(e)/d(k)", "d(x)/d(k)"));
  EXPECT_EQ(s->values_per_save(), 6);

  auto fails = [&](const v1::SolveRequest& bad, const std::string& message) {
    absl::StatusOr<JobSpec> b = Build(bad);
    ASSERT_FALSE(b.ok()) << message;
    EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(b.status().message(), message);
  };
  v1::SolveRequest bad = r;
  bad.add_sensitivities("kk");
  fails(bad,
        "sensitivities[2]: 'kk' is not a parameter of the model (did you mean 'k'?); expected "
        "one of k, c");
  bad = r;
  bad.add_sensitivities("c");
  fails(bad, "sensitivities[2]: 'c' is already sensitivities[0]");
  bad = r;
  bad.add_sensitivities("x");
  fails(bad, "sensitivities[2]: 'x' is not a parameter of the model; expected one of k, c");

  // 16 states x (1 + 16 parameters) = 272 states, over max_model_states = 256.
  std::string wide;
  for (int i = 0; i < 16; ++i) absl::StrAppend(&wide, "param p", i, " = 1\n");
  for (int i = 0; i < 16; ++i) absl::StrAppend(&wide, "state u", i, " = 1\n");
  for (int i = 0; i < 16; ++i) absl::StrAppend(&wide, "u", i, "' = -p", i, "*u", i, "\n");
  v1::SolveRequest big;
  big.set_model_source(wide);
  big.set_trajectories(1);
  big.mutable_options()->set_t1(1);
  for (int i = 0; i < 16; ++i) big.add_sensitivities(absl::StrCat("p", i));
  fails(big,
        "sensitivities: 16 parameters make the augmented system 16 x (1 + 16) = 272 states, over "
        "the limit max_model_states = 256; ask for fewer parameters");

  // The chunk limit counts the sensitivities.
  config_.max_chunk_bytes = 8;
  v1::SolveRequest chunky = Decay(1);
  chunky.add_sensitivities("k");
  EXPECT_THAT(Build(chunky).status().message(),
              HasSubstr("1 save points x 2 values (states and their sensitivities) = 16 bytes"));
}

}  // namespace
}  // namespace ensolve::server
