#include "engine/sampler.h"

#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using ::testing::HasSubstr;

SamplerSpec Uniform(uint64_t seed) {
  SamplerSpec s;
  s.kind = SamplerKind::kUniform;
  s.seed = seed;
  s.a = {0, 0, 0};
  s.b = {10, 28, 8.0 / 3};
  return s;
}

TEST(SplitMix64, KnownValues) {
  // splitmix64 reference outputs for state 0 (the first output of the generator seeded 0).
  EXPECT_EQ(SplitMix64(0), 0xe220a8397b1dcdafULL);
  EXPECT_NE(CounterHash(1, 0, 0), CounterHash(1, 0, 1));
  EXPECT_NE(CounterHash(1, 0, 0), CounterHash(1, 1, 0));
  EXPECT_NE(CounterHash(1, 0, 0), CounterHash(2, 0, 0));
}

TEST(Sampler, ValuesDependOnlyOnSeedIndexAndDimension) {
  auto s = Sampler::Create(Uniform(7), 3);
  ASSERT_TRUE(s.ok()) << s.status();
  const int64_t n = 1001;
  std::vector<double> whole(n * 3);
  s->Fill(0, n, whole.data());
  // Any split into batches, filled in any order, gives the same values.
  for (int64_t batch : {1, 7, 100, 1000, 1001}) {
    std::vector<double> pieces(n * 3);
    for (int64_t first = (n - 1) / batch * batch; first >= 0; first -= batch) {
      const int64_t count = std::min(batch, n - first);
      s->Fill(first, count, pieces.data() + first * 3);
    }
    EXPECT_EQ(pieces, whole) << "batch " << batch;
  }
  // A fresh sampler from the same spec agrees; another seed does not.
  auto again = Sampler::Create(Uniform(7), 3);
  auto other = Sampler::Create(Uniform(8), 3);
  EXPECT_EQ(again->Value(500, 1), whole[500 * 3 + 1]);
  EXPECT_NE(other->Value(500, 1), whole[500 * 3 + 1]);
}

TEST(Sampler, UniformStaysInBoxWithTheRightMean) {
  auto s = Sampler::Create(Uniform(1), 3);
  ASSERT_TRUE(s.ok());
  const int64_t n = 100000;
  double sum[3] = {0, 0, 0};
  for (int64_t i = 0; i < n; ++i) {
    for (int d = 0; d < 3; ++d) {
      const double v = s->Value(i, d);
      ASSERT_GE(v, s->spec().a[d]);
      ASSERT_LE(v, s->spec().b[d]);
      sum[d] += v;
    }
  }
  for (int d = 0; d < 3; ++d) {
    const double width = s->spec().b[d] - s->spec().a[d];
    EXPECT_NEAR(sum[d] / n, width / 2, 0.01 * width) << d;
  }
}

TEST(Sampler, NormalHasTheRightMoments) {
  SamplerSpec spec;
  spec.kind = SamplerKind::kNormal;
  spec.seed = 3;
  spec.a = {1.0, -5.0};
  spec.b = {2.0, 0.0};
  auto s = Sampler::Create(spec, 2);
  ASSERT_TRUE(s.ok());
  const int64_t n = 200000;
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = s->Value(i, 0);
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
    sq += v * v;
    ASSERT_EQ(s->Value(i, 1), -5.0);  // stddev 0 is a constant
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  EXPECT_NEAR(mean, 1.0, 0.02);
  EXPECT_NEAR(var, 4.0, 0.05);
}

TEST(Sampler, GridVisitsEveryPointOnceLastDimensionFastest) {
  SamplerSpec spec;
  spec.kind = SamplerKind::kGrid;
  spec.a = {0, 10};
  spec.b = {1, 20};
  spec.points = {3, 5};
  auto s = Sampler::Create(spec, 2);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size(), 15);
  std::set<std::pair<double, double>> seen;
  for (int64_t i = 0; i < 15; ++i) seen.insert({s->Value(i, 0), s->Value(i, 1)});
  EXPECT_EQ(seen.size(), 15u);
  EXPECT_EQ(s->Value(0, 0), 0.0);
  EXPECT_EQ(s->Value(0, 1), 10.0);
  EXPECT_EQ(s->Value(1, 1), 12.5);  // last dimension moves first
  EXPECT_EQ(s->Value(1, 0), 0.0);
  EXPECT_EQ(s->Value(5, 0), 0.5);
  EXPECT_EQ(s->Value(14, 0), 1.0);  // endpoints are exact
  EXPECT_EQ(s->Value(14, 1), 20.0);
  EXPECT_EQ(s->Value(15, 1), 10.0);  // wraps around
}

// Fill() is Value() row by row, bit for bit: random box and normal specs, grids with
// single points, wrap-around, and a grid whose size saturates, from offsets far in.
TEST(Sampler, FillIsValueBitForBit) {
  std::vector<std::pair<SamplerSpec, int>> specs;
  specs.push_back({Uniform(3), 3});
  SamplerSpec normal{SamplerKind::kNormal, 11, {1, -2, 0, 5}, {0.5, 3, 0, 1e-3}, {}};
  specs.push_back({normal, 4});
  SamplerSpec grid{SamplerKind::kGrid, 0, {10, 0, 8.0 / 3}, {10, 21, 8.0 / 3}, {1, 1000, 1}};
  specs.push_back({grid, 3});
  SamplerSpec grid2{SamplerKind::kGrid, 0, {-1, 0.1, 3}, {1, 0.7, 3.5}, {7, 2, 13}};
  specs.push_back({grid2, 3});
  SamplerSpec huge{
      SamplerKind::kGrid, 0, {0, 1, 2}, {1, 2, 3}, {int64_t{1} << 40, 3, int64_t{1} << 30}};
  specs.push_back({huge, 3});
  for (const auto& [spec, dims] : specs) {
    auto s = Sampler::Create(spec, dims);
    ASSERT_TRUE(s.ok()) << s.status();
    for (int64_t first : {int64_t{0}, int64_t{1}, int64_t{181}, int64_t{999}, int64_t{1} << 33,
                          (int64_t{1} << 62) + 12345}) {
      const int64_t count = 1500;
      std::vector<double> out(count * dims);
      s->Fill(first, count, out.data());
      for (int64_t k = 0; k < count; ++k) {
        for (int d = 0; d < dims; ++d) {
          const double want = s->Value(first + k, d);
          ASSERT_EQ(std::memcmp(&out[k * dims + d], &want, sizeof(double)), 0)
              << "kind " << static_cast<int>(spec.kind) << " first " << first << " k " << k << " d "
              << d << ": " << out[k * dims + d] << " vs " << want;
        }
      }
    }
  }
}

TEST(Sampler, RejectsBadSpecsNamingTheField) {
  SamplerSpec spec = Uniform(1);
  spec.b.pop_back();
  auto s = Sampler::Create(spec, 3, "params.sampler.uniform");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("params.sampler.uniform.hi: has 2 values"));

  spec = Uniform(1);
  spec.b[1] = -1;
  EXPECT_THAT(Sampler::Create(spec, 3).status().message(), HasSubstr("hi[1]"));

  spec = Uniform(1);
  spec.a[0] = NAN;
  EXPECT_THAT(Sampler::Create(spec, 3).status().message(), HasSubstr("finite"));

  SamplerSpec normal;
  normal.kind = SamplerKind::kNormal;
  normal.a = {0};
  normal.b = {-1};
  EXPECT_THAT(Sampler::Create(normal, 1).status().message(), HasSubstr("stddev[0]"));

  SamplerSpec grid;
  grid.kind = SamplerKind::kGrid;
  grid.a = {0};
  grid.b = {1};
  grid.points = {0};
  EXPECT_THAT(Sampler::Create(grid, 1).status().message(), HasSubstr("points[0]"));
}

}  // namespace
}  // namespace ensolve
