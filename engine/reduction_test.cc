// The statistics and their merge (engine/reduction.h) against a two-pass long double
// reference: one pass over everything, and any split into pieces merged by Chan et al.'s
// update, give the same figures to rounding; histograms and counts exactly.
#include "engine/reduction.h"

#include <cmath>
#include <random>
#include <vector>

#include "engine/testing/reduction_reference.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using testing::ExpectReductionMatches;
using testing::ReferenceReduction;

// count trajectories x 3 save points x 2 quantities; about 10% fail, a few values NaN or
// infinite; quantity 1 has a large mean and a small spread (the case naive sums lose).
struct Ensemble {
  ReductionSpec spec;
  std::vector<double> states;
  std::vector<uint8_t> codes;
};

Ensemble MakeEnsemble(int64_t count, uint32_t seed) {
  Ensemble e;
  e.spec.num_save = 3;
  e.spec.width = 2;
  e.spec.bins = 5;
  e.spec.edges = {-1, -0.5, 0, 0.5, 1, 2, 1e6 - 1, 1e6 - 0.5, 1e6, 1e6 + 0.5, 1e6 + 1, 1e6 + 2};
  e.spec.per_quantity_edges = true;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  e.states.resize(count * 6);
  e.codes.resize(count);
  for (int64_t k = 0; k < count; ++k) {
    e.codes[k] = u(rng) < 0.1 ? (u(rng) < 0.5 ? 1 : 3) : 0;
    for (int c = 0; c < 6; ++c) {
      double x = c % 2 == 0 ? normal(rng) : 1e6 + 0.5 * normal(rng);
      const double r = u(rng);
      if (r < 0.01) x = NAN;
      if (r > 0.995) x = r > 0.9975 ? INFINITY : -INFINITY;
      e.states[k * 6 + c] = x;
    }
  }
  return e;
}

testing::ReferenceStats Reference(const Ensemble& e) {
  return ReferenceReduction(
      e.spec, static_cast<int64_t>(e.codes.size()), [&](int64_t k) { return e.codes[k]; },
      [&](int64_t k, int64_t c) { return e.states[k * 6 + c]; });
}

Reduction Reduce(const Ensemble& e, int64_t first, int64_t count) {
  Reduction r;
  r.Reset(e.spec);
  CountRetCodes(e.codes.data() + first, count, &r);
  ReduceStates(e.spec, e.states.data() + first * 6, e.codes.data() + first, count, 0,
               e.spec.num_save, &r);
  return r;
}

TEST(Reduction, OnePassEqualsTwoPassReference) {
  const Ensemble e = MakeEnsemble(20000, 1);
  ExpectReductionMatches(Reduce(e, 0, 20000), Reference(e), 1e-12, "one pass");
}

TEST(Reduction, AnySplitMergedEqualsTheWhole) {
  const int64_t n = 20000;
  const Ensemble e = MakeEnsemble(n, 2);
  const testing::ReferenceStats ref = Reference(e);
  std::mt19937 rng(7);
  for (int64_t piece : {int64_t{1}, int64_t{7}, int64_t{10000}, int64_t{0}}) {
    Reduction all;
    all.Reset(e.spec);
    for (int64_t first = 0; first < n;) {
      // piece 0: random sizes from 1 to 3000.
      const int64_t len = std::min(
          n - first, piece > 0 ? piece : std::uniform_int_distribution<int64_t>(1, 3000)(rng));
      all.Merge(Reduce(e, first, len));
      first += len;
    }
    ExpectReductionMatches(all, ref, 1e-12, "pieces of " + std::to_string(piece));
  }
}

TEST(Reduction, SaveRangesSplitOverThreadsGiveTheSameBits) {
  const Ensemble e = MakeEnsemble(3000, 3);
  const Reduction whole = Reduce(e, 0, 3000);
  Reduction split;
  split.Reset(e.spec);
  CountRetCodes(e.codes.data(), 3000, &split);
  for (int s = 0; s < 3; ++s)
    ReduceStates(e.spec, e.states.data(), e.codes.data(), 3000, s, s + 1, &split);
  for (size_t c = 0; c < whole.moments.size(); ++c) {
    EXPECT_EQ(whole.moments[c].mean, split.moments[c].mean);
    EXPECT_EQ(whole.moments[c].m2, split.moments[c].m2);
  }
  EXPECT_EQ(whole.histogram, split.histogram);
}

TEST(Reduction, HistogramSlotsFollowNumpy) {
  const double edges[] = {0, 1, 2, 4};
  EXPECT_EQ(reduce::HistogramSlot(edges, 3, -1e-300), 0);  // underflow
  EXPECT_EQ(reduce::HistogramSlot(edges, 3, 0), 1);        // [0, 1)
  EXPECT_EQ(reduce::HistogramSlot(edges, 3, 0.999), 1);
  EXPECT_EQ(reduce::HistogramSlot(edges, 3, 1), 2);          // [1, 2)
  EXPECT_EQ(reduce::HistogramSlot(edges, 3, 3.5), 3);        // [2, 4]
  EXPECT_EQ(reduce::HistogramSlot(edges, 3, 4), 3);          // the last edge is in the last bin
  EXPECT_EQ(reduce::HistogramSlot(edges, 3, 4.0000001), 4);  // overflow
}

TEST(Reduction, ExcludedValuesAndEmptyCells) {
  ReductionSpec spec;
  spec.num_save = 1;
  spec.width = 2;
  const double states[] = {1, NAN, 3, NAN, 100, 100};
  const uint8_t codes[] = {0, 0, 2};
  Reduction r;
  r.Reset(spec);
  CountRetCodes(codes, 3, &r);
  ReduceStates(spec, states, codes, 3, 0, 1, &r);
  EXPECT_EQ(r.trajectories, 3);
  EXPECT_EQ(r.failed(), 1);
  EXPECT_EQ(r.moments[0].n, 2);
  EXPECT_EQ(reduce::MeanOf(r.moments[0]), 2);
  EXPECT_EQ(r.variance(0), 2);  // unbiased: ((1-2)^2 + (3-2)^2) / 1
  EXPECT_EQ(r.moments[0].min, 1);
  EXPECT_EQ(r.moments[0].max, 3);
  EXPECT_EQ(r.moments[1].n, 0);  // both successful values NaN, the failed one left out
  EXPECT_EQ(r.nonfinite[1], 2);
  EXPECT_TRUE(std::isnan(r.variance(1)));
  // Merging an empty reduction changes nothing; merging into an empty one copies.
  Reduction empty;
  empty.Reset(spec);
  Reduction copy = r;
  copy.Merge(empty);
  EXPECT_EQ(reduce::MeanOf(copy.moments[0]), 2);
  empty.Merge(r);
  EXPECT_EQ(empty.moments[0].m2, r.moments[0].m2);
  EXPECT_EQ(empty.moments[0].min, 1);
}

TEST(Reduction, BytesCountEveryArray) {
  ReductionSpec spec;
  spec.num_save = 100;
  spec.width = 3;
  spec.bins = 10;
  EXPECT_EQ(spec.bytes(), 300 * (48 + 8 + 12 * 8));
}

}  // namespace
}  // namespace ensolve
