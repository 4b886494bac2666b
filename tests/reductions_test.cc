// Reductions through a real ensolved on loopback: without keep_states no ResultChunk comes
// and SolveSummary still counts every trajectory; the statistics equal those of the full
// output computed here from the streamed states (two passes, long double) to rounding, and
// equal bitwise those of the same request with keep_states; partial results are cumulative;
// a request's errors name their field; a large ensemble returns kilobytes.
#include <cmath>
#include <string>
#include <vector>

#include "client/tensor.h"
#include "engine/testing/reduction_reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

// Fast-growing trajectories run out of max_steps (failures); `root` is NaN where x < 1.
constexpr char kGrowth[] = "state x = 0.1\nparam mu = 1.5\noutput root = sqrt(x - 1)\nx' = mu*x\n";

v1::SolveRequest GrowthRequest(int64_t n, int64_t batch, bool keep_states) {
  v1::SolveRequest r;
  r.set_model_source(kGrowth);
  r.set_trajectories(n);
  r.set_batch_size(batch);
  v1::SolveOptions* o = r.mutable_options();
  o->set_t1(1);
  o->set_abstol(1e-8);
  o->set_reltol(1e-8);
  o->set_max_steps(60);
  o->mutable_saveat()->mutable_range()->set_stop(1);
  o->mutable_saveat()->mutable_range()->set_step(0.125);
  r.add_outputs("x");
  r.add_outputs("root");
  v1::UniformBox* u = r.mutable_params()->mutable_sampler()->mutable_uniform();
  r.mutable_params()->mutable_sampler()->set_seed(9);
  u->add_lo(-1);
  u->add_hi(30);
  v1::Reductions* red = r.mutable_reductions();
  for (v1::Statistic s : {v1::STATISTIC_MEAN, v1::STATISTIC_VARIANCE, v1::STATISTIC_MIN,
                          v1::STATISTIC_MAX, v1::STATISTIC_HISTOGRAM}) {
    red->add_statistics(s);
  }
  *red->mutable_histogram_edges() = Float64Tensor({-2, 0, 0.5, 1, 2, 5, 50, 1000}, {8});
  red->set_keep_states(keep_states);
  return r;
}

struct Messages {
  std::vector<v1::SolveResponse> all;
  int chunks = 0, reductions = 0;
  int64_t bytes = 0;
};

Messages Stream(Client& client, const v1::SolveRequest& req) {
  Messages m;
  absl::Status s = client.SolveStream(req, [&](const v1::SolveResponse& r) {
    m.all.push_back(r);
    m.bytes += static_cast<int64_t>(r.ByteSizeLong());
    m.chunks += r.has_chunk();
    m.reductions += r.has_reduction();
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return m;
}

class Reductions : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new TestServer(StartServer()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static Client& client() { return *server_->client; }
  static TestServer* server_;
};
TestServer* Reductions::server_ = nullptr;

TEST_F(Reductions, StatisticsWithoutStatesEqualTheFullOutputs) {
  const int64_t n = 6000;
  // The states, streamed, and the statistics of the same request.
  absl::StatusOr<SolveResult> full = client().Solve(GrowthRequest(n, 700, true));
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_TRUE(full->statistics.has_value());
  ASSERT_EQ(full->states.size(), static_cast<size_t>(n * 9 * 2));
  // Statistics only.
  const v1::SolveRequest req = GrowthRequest(n, 700, false);
  const Messages m = Stream(client(), req);
  EXPECT_EQ(m.chunks, 0);
  EXPECT_EQ(m.reductions, 1);
  ASSERT_GE(m.all.size(), 3u);
  const v1::SolveAccepted& a = m.all.front().accepted();
  EXPECT_FALSE(a.reductions().states_streamed());
  EXPECT_THAT(a.reductions().quantities(), ::testing::ElementsAre("x", "root"));
  EXPECT_EQ(a.reductions().save_points(), 9);
  EXPECT_EQ(a.reductions().bins(), 7);
  ASSERT_TRUE(m.all[m.all.size() - 2].has_reduction());
  ASSERT_TRUE(m.all.back().has_summary());
  const v1::SolveSummary& summary = m.all.back().summary();
  int64_t counted = 0;
  for (const auto& [name, c] : summary.retcode_counts()) counted += c;
  EXPECT_EQ(counted, n);
  EXPECT_GT(summary.retcode_counts().at("max_steps"), 500);
  EXPECT_EQ(summary.bytes_streamed(), 0);
  EXPECT_EQ(summary.batches(), 9);

  absl::StatusOr<SolveResult> got = client().Solve(req);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->statistics.has_value());
  EXPECT_TRUE(got->states.empty());
  const EnsembleStatistics& s = *got->statistics;
  EXPECT_EQ(s.trajectories, n);
  EXPECT_EQ(s.failed, n - summary.retcode_counts().at("success"));

  // The reference, from the streamed states.
  ReductionSpec spec;
  spec.num_save = 9;
  spec.width = 2;
  spec.bins = 7;
  spec.edges = {-2, 0, 0.5, 1, 2, 5, 50, 1000};
  const ReferenceStats ref = ReferenceReduction(
      spec, n, [&](int64_t k) { return full->retcodes[k]; },
      [&](int64_t k, int64_t c) { return full->states[k * 18 + c]; });
  EXPECT_GT(ref.nonfinite[1], 100);  // root of x < 1: NaN, left out
  for (size_t c = 0; c < ref.count.size(); ++c) {
    EXPECT_EQ(s.count[c], ref.count[c]) << c;
    EXPECT_EQ(s.nonfinite[c], ref.nonfinite[c]) << c;
    if (ref.count[c] == 0) {
      EXPECT_TRUE(std::isnan(s.mean[c])) << c;
      continue;
    }
    const double sd = ref.count[c] > 1 ? std::sqrt(ref.variance[c]) : 0;
    EXPECT_NEAR(s.mean[c], ref.mean[c], 1e-12 * (std::abs(ref.mean[c]) + sd)) << c;
    if (ref.count[c] > 1) {
      // A constant cell (save point 0) has variance 0 here, a few ulps of mean^2 there.
      const double floor = 1e-30 * ref.mean[c] * ref.mean[c];
      EXPECT_NEAR(s.variance[c], ref.variance[c], 1e-12 * ref.variance[c] + floor) << c;
    }
    EXPECT_EQ(s.min[c], ref.min[c]) << c;
    EXPECT_EQ(s.max[c], ref.max[c]) << c;
    // Same batches merged in the same order: bitwise the keep_states figures.
    EXPECT_EQ(s.mean[c], full->statistics->mean[c]) << c;
    EXPECT_TRUE(s.variance[c] == full->statistics->variance[c] ||
                (std::isnan(s.variance[c]) && std::isnan(full->statistics->variance[c])));
  }
  EXPECT_EQ(s.histogram, ref.histogram);
}

TEST_F(Reductions, PartialResultsAreCumulativeAndTheFinalComesLast) {
  v1::SolveRequest req = GrowthRequest(4000, 100, false);
  req.mutable_reductions()->set_partial_seconds(1e-6);  // after every batch that finds time
  const Messages m = Stream(client(), req);
  EXPECT_EQ(m.chunks, 0);
  EXPECT_GE(m.reductions, 2);
  int64_t last = 0;
  int finals = 0;
  for (const v1::SolveResponse& r : m.all) {
    if (!r.has_reduction()) continue;
    EXPECT_GE(r.reduction().trajectories(), last);
    EXPECT_EQ(r.reduction().trajectories(), std::min<int64_t>(4000, r.reduction().batches() * 100));
    last = r.reduction().trajectories();
    finals += r.reduction().final();
  }
  EXPECT_EQ(finals, 1);
  EXPECT_TRUE(m.all[m.all.size() - 2].reduction().final());
  EXPECT_EQ(m.all[m.all.size() - 2].reduction().trajectories(), 4000);
}

TEST_F(Reductions, ValidationErrorsNameTheField) {
  v1::SolveRequest req = GrowthRequest(10, 0, false);
  *req.mutable_reductions()->mutable_histogram_edges() = Float64Tensor({0, 2, 1}, {3});
  absl::StatusOr<SolveResult> r = client().Solve(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "reductions.histogram_edges[2]: 1 is not above the edge before it (2); edges must be "
            "strictly increasing");
}

TEST_F(Reductions, ALargeEnsembleReturnsKilobytes) {
  v1::SolveRequest req = GrowthRequest(200000, 0, false);
  req.mutable_options()->set_max_steps(1000);
  req.mutable_options()->set_abstol(1e-6);
  req.mutable_options()->set_reltol(1e-6);
  const Messages m = Stream(client(), req);
  EXPECT_EQ(m.chunks, 0);
  EXPECT_LT(m.bytes, 8 << 10) << "bytes received";
  const v1::SolveSummary& s = m.all.back().summary();
  EXPECT_EQ(s.retcode_counts().at("success"), 200000);
  EXPECT_EQ(s.trajectories(), 200000);
}

}  // namespace
}  // namespace ensolve::testing
