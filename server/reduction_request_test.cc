// SolveRequest.reductions validation: every bad input is INVALID_ARGUMENT with a message
// naming the field; a good one becomes the engine's ReductionSpec; streamed-output limits
// do not apply when the states stay on the server; the memory estimate counts reductions.
#include "server/reduction_request.h"

#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/request.h"
#include "server/request_cost.h"

namespace ensolve::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTwo[] =
    "state x = 2, y = 1\nparam k = 0.5\noutput e = x + y\nx' = -k*x\ny' = k*x\n";

v1::Tensor Doubles(std::vector<double> v, std::vector<int64_t> shape) {
  v1::Tensor t;
  t.set_dtype(v1::DTYPE_FLOAT64);
  for (int64_t d : shape) t.add_shape(d);
  t.set_data(reinterpret_cast<const char*>(v.data()), v.size() * 8);
  return t;
}

class ReductionRequestTest : public ::testing::Test {
 protected:
  ReductionRequestTest() : cache_(8, int64_t{1} << 30, ModelLimits{}, nullptr) {}
  absl::StatusOr<JobSpec> Build(const v1::SolveRequest& r) {
    return BuildJobSpec(r, config_, cache_, "t");
  }
  v1::SolveRequest Request() {
    v1::SolveRequest r;
    r.set_model_source(kTwo);
    r.set_trajectories(1000);
    r.mutable_options()->set_t1(1);
    r.mutable_options()->mutable_saveat()->mutable_range()->set_stop(1);
    r.mutable_options()->mutable_saveat()->mutable_range()->set_step(0.25);
    r.mutable_reductions()->add_statistics(v1::STATISTIC_MEAN);
    return r;
  }
  void ExpectInvalid(const v1::SolveRequest& r, const std::string& message) {
    absl::StatusOr<JobSpec> s = Build(r);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
    EXPECT_EQ(s.status().message(), message);
  }
  ServerConfig config_;
  ModelCache cache_;
};

TEST_F(ReductionRequestTest, AGoodRequestBecomesTheEngineSpec) {
  v1::SolveRequest r = Request();
  r.add_outputs("e");
  r.add_outputs("x");
  r.mutable_reductions()->add_statistics(v1::STATISTIC_HISTOGRAM);
  *r.mutable_reductions()->mutable_histogram_edges() = Doubles({0, 1, 2, 3}, {3 + 1});
  absl::StatusOr<JobSpec> s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->reduction.has_value());
  const ReductionSpec& spec = s->reduction->spec;
  EXPECT_EQ(spec.num_save, 5);
  EXPECT_EQ(spec.width, 2);
  EXPECT_EQ(spec.bins, 3);
  EXPECT_FALSE(spec.per_quantity_edges);
  EXPECT_FALSE(spec.keep_states);
  EXPECT_THAT(spec.edges, ElementsAre(0, 1, 2, 3));
  EXPECT_FALSE(s->streams_states());
  EXPECT_THAT(s->reduction->statistics, ElementsAre(v1::STATISTIC_MEAN, v1::STATISTIC_HISTOGRAM));
  // Edges per quantity, in float32.
  v1::Tensor& t = *r.mutable_reductions()->mutable_histogram_edges();
  std::vector<float> f = {0, 1, 2, -5, 0, 5};
  t.set_dtype(v1::DTYPE_FLOAT32);
  t.clear_shape();
  t.add_shape(2);
  t.add_shape(3);
  t.set_data(reinterpret_cast<const char*>(f.data()), f.size() * 4);
  s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->reduction->spec.per_quantity_edges);
  EXPECT_EQ(s->reduction->spec.bins, 2);
  EXPECT_EQ(s->reduction->spec.edges_of(1)[0], -5);
}

TEST_F(ReductionRequestTest, EveryBadInputNamesItsField) {
  v1::SolveRequest r = Request();
  r.mutable_reductions()->clear_statistics();
  ExpectInvalid(r,
                "reductions.statistics: name at least one of STATISTIC_MEAN, _VARIANCE, _MIN, "
                "_MAX, _HISTOGRAM");
  r = Request();
  r.mutable_reductions()->add_statistics(static_cast<v1::Statistic>(9));
  ExpectInvalid(r,
                "reductions.statistics[1]: unknown statistic 9 (STATISTIC_MEAN, _VARIANCE, "
                "_MIN, _MAX, _HISTOGRAM)");
  r = Request();
  r.mutable_reductions()->add_statistics(v1::STATISTIC_MEAN);
  ExpectInvalid(r, "reductions.statistics[1]: STATISTIC_MEAN is listed twice");
  r = Request();
  r.mutable_reductions()->add_statistics(v1::STATISTIC_HISTOGRAM);
  ExpectInvalid(r, "reductions.histogram_edges: required by STATISTIC_HISTOGRAM");
  r = Request();
  *r.mutable_reductions()->mutable_histogram_edges() = Doubles({0, 1}, {2});
  ExpectInvalid(r,
                "reductions.histogram_edges: set, but reductions.statistics does not ask for "
                "STATISTIC_HISTOGRAM");
  r = Request();
  r.mutable_reductions()->add_statistics(v1::STATISTIC_HISTOGRAM);
  *r.mutable_reductions()->mutable_histogram_edges() = Doubles({0}, {1});
  ExpectInvalid(r,
                "reductions.histogram_edges: shape [1] must be [bins + 1] or [quantities, "
                "bins + 1] with quantities = 2 and at least 2 edges");
  *r.mutable_reductions()->mutable_histogram_edges() = Doubles({0, 1, 2, 0, 1, 2, 0, 1, 2}, {3, 3});
  ExpectInvalid(r,
                "reductions.histogram_edges: shape [3, 3] must be [bins + 1] or [quantities, "
                "bins + 1] with quantities = 2 and at least 2 edges");
  *r.mutable_reductions()->mutable_histogram_edges() = Doubles({0, 1, 1, 2}, {4});
  ExpectInvalid(r,
                "reductions.histogram_edges[2]: 1 is not above the edge before it (1); edges "
                "must be strictly increasing");
  *r.mutable_reductions()->mutable_histogram_edges() = Doubles({0, 1, 2, 0, NAN, 2}, {2, 3});
  ExpectInvalid(r, "reductions.histogram_edges[1, 1]: nan is not finite");
  std::vector<double> many(kMaxReductionBins + 2);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<double>(i);
  *r.mutable_reductions()->mutable_histogram_edges() =
      Doubles(many, {static_cast<int64_t>(many.size())});
  ExpectInvalid(r, "reductions.histogram_edges: 1025 bins exceed the limit of 1024");
  v1::Tensor bad = Doubles({0, 1}, {2});
  bad.set_dtype(v1::DTYPE_INT32);
  *r.mutable_reductions()->mutable_histogram_edges() = bad;
  ExpectInvalid(r,
                "reductions.histogram_edges: dtype must be DTYPE_FLOAT64 or DTYPE_FLOAT32, got "
                "DTYPE_INT32");
  bad = Doubles({0, 1}, {3});
  *r.mutable_reductions()->mutable_histogram_edges() = bad;
  ExpectInvalid(r,
                "reductions.histogram_edges: data has 16 bytes, but shape [3] of DTYPE_FLOAT64 "
                "needs 24");
  r = Request();
  r.mutable_reductions()->set_partial_seconds(-1);
  ExpectInvalid(r, "reductions.partial_seconds: must be finite and >= 0, got -1");
  r = Request();
  r.set_return_inputs(true);
  ExpectInvalid(r,
                "return_inputs: needs per-trajectory results, which reductions without "
                "keep_states do not send; set reductions.keep_states or drop return_inputs");
  r.mutable_reductions()->set_keep_states(true);
  EXPECT_TRUE(Build(r).ok());
}

TEST_F(ReductionRequestTest, TooManyQuantities) {
  // The state and 256 outputs (a model's most): 257 quantities.
  std::string model = "state x = 1\n";
  for (int i = 0; i < kMaxReductionQuantities; ++i) {
    model += "output o" + std::to_string(i) + " = x\n";
  }
  model += "x' = -x\n";
  v1::SolveRequest r = Request();
  r.set_model_source(model);
  r.add_outputs("x");
  for (int i = 0; i < kMaxReductionQuantities; ++i) r.add_outputs("o" + std::to_string(i));
  ExpectInvalid(r,
                "reductions: 257 quantities per save point exceed the limit of 256; select "
                "fewer with outputs");
}

TEST_F(ReductionRequestTest, OutputLimitsApplyOnlyToStreamedStates) {
  // 10^8 trajectories x 100 save points x 8 bytes = 80 GB, over max_output_bytes when
  // streamed, fine as statistics.
  v1::SolveRequest r = Request();
  r.set_trajectories(100000000);
  r.mutable_options()->mutable_saveat()->mutable_range()->set_step(1.0 / 99);
  r.add_outputs("x");
  absl::StatusOr<JobSpec> s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->num_save(), 100);
  const JobCost cost = EstimateJobCost(*s, config_, 1);
  // The window of buffered batches holds statistics, not states.
  EXPECT_LT(cost.result_bytes, int64_t{1} << 20) << cost.Describe();
  EXPECT_EQ(cost.chunk_bytes, 0);
  r.mutable_reductions()->set_keep_states(true);
  s = Build(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.status().message(), HasSubstr("max_output_bytes"));
}

TEST_F(ReductionRequestTest, MemoryEstimateCountsTheStatistics) {
  v1::SolveRequest r = Request();
  r.set_trajectories(100000);
  r.mutable_reductions()->add_statistics(v1::STATISTIC_HISTOGRAM);
  std::vector<double> edges(kMaxReductionBins + 1);
  for (size_t i = 0; i < edges.size(); ++i) edges[i] = static_cast<double>(i);
  *r.mutable_reductions()->mutable_histogram_edges() =
      Doubles(edges, {static_cast<int64_t>(edges.size())});
  absl::StatusOr<JobSpec> s = Build(r);
  ASSERT_TRUE(s.ok()) << s.status();
  const int64_t one = s->reduction->spec.bytes();
  EXPECT_EQ(one, 5 * 2 * (48 + 8 + 1026 * 8));
  const JobCost cost = EstimateJobCost(*s, config_, 1);
  // Buffered batches' statistics plus the merged ones, waiting ones and the message.
  EXPECT_GE(cost.result_bytes, one * 4) << cost.Describe();
  EXPECT_GE(InputBytesEstimate(r), static_cast<int64_t>(edges.size() * 8 * 2));
}

}  // namespace
}  // namespace ensolve::server
