#include "server/model_cache.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ensolve::server {
namespace {

std::string Source(int i, size_t pad) {
  return absl::StrCat("state x\nx' = -", i, "*x\n# ", std::string(pad, 'p'), "\n");
}

TEST(ModelCacheTest, BoundedByCount) {
  ModelCache cache(2, int64_t{1} << 40, {}, nullptr);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(cache.GetOrParse("a", Source(i, 0)).ok());
  EXPECT_EQ(cache.size(), 2);
}

TEST(ModelCacheTest, BoundedByBytesLeastRecentlyUsedFirst) {
  const std::string a = Source(1, 1000), b = Source(2, 1000), c = Source(3, 1000);
  // Room for two of them.
  ModelCache cache(100, 2 * ModelCache::ModelBytes(a.size()) + 10, {}, nullptr);
  ASSERT_TRUE(cache.GetOrParse("a", a).ok());
  ASSERT_TRUE(cache.GetOrParse("a", b).ok());
  ASSERT_TRUE(cache.GetOrParse("a", a).ok());  // a is now the most recent
  ASSERT_TRUE(cache.GetOrParse("a", c).ok());  // evicts b
  EXPECT_EQ(cache.size(), 2);
  EXPECT_TRUE(cache.Contains("a", a));
  EXPECT_FALSE(cache.Contains("a", b));
  EXPECT_TRUE(cache.Contains("a", c));
  EXPECT_EQ(cache.bytes(), 2 * ModelCache::ModelBytes(a.size()));
}

// Sensitivity models: cached by (model id, parameter list), counted as (1 + parameters)
// times the model's bytes, evicted with the models least recently used first, and still
// usable by a holder after eviction.
TEST(ModelCacheTest, SensitivityModelsAreCachedAndBounded) {
  const std::string src = "state x = 1\nparam a = 1, b = 2\nx' = -a*x + b\n";
  const int64_t one = ModelCache::ModelBytes(src.size());
  ModelCache cache(100, 4 * one, {}, nullptr);  // the model and one 2-parameter model
  auto base = cache.GetOrParse("a", src);
  ASSERT_TRUE(base.ok());
  bool cached = true;
  auto ab = cache.GetOrBuildSensitivityModel("a", *base, {0, 1}, &cached);
  ASSERT_TRUE(ab.ok()) << ab.status();
  EXPECT_FALSE(cached);
  EXPECT_EQ((*ab)->num_states(), 3);
  EXPECT_EQ(cache.bytes(), 4 * one);
  auto again = cache.GetOrBuildSensitivityModel("a", *base, {0, 1}, &cached);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(cached);
  EXPECT_EQ(again->get(), ab->get());
  EXPECT_TRUE(cache.ContainsSensitivityModel("a", src, false, {"a", "b"}));
  EXPECT_TRUE(cache.ContainsSensitivityModel("a", (*base)->hash(), true, {"a", "b"}));
  EXPECT_FALSE(cache.ContainsSensitivityModel("a", src, false, {"b", "a"}));
  // A second one (b alone, 2 x the model) does not fit beside the first: the least
  // recently used entry goes.
  auto b = cache.GetOrBuildSensitivityModel("a", *base, {1}, &cached);
  ASSERT_TRUE(b.ok());
  EXPECT_LE(cache.bytes(), 4 * one);
  EXPECT_FALSE(cache.ContainsSensitivityModel("a", src, false, {"a", "b"}) &&
               cache.ContainsSensitivityModel("a", src, false, {"b"}));
  EXPECT_EQ((*ab)->num_states(), 3);  // still alive for its holder
}

// Tenants share nothing: another tenant's text is a miss (parsed again, `cached` false)
// and its id is NOT_FOUND, sensitivity models included; each tenant's entries count.
TEST(ModelCacheTest, TenantsSeeOnlyTheirOwnModels) {
  const std::string src = "state x = 1\nparam a = 1\nx' = -a*x\n";
  ModelCache cache(100, int64_t{1} << 40, {}, nullptr);
  bool cached = true;
  auto a = cache.GetOrParse("alice", src, &cached);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(cached);
  EXPECT_TRUE(cache.Contains("alice", src));
  EXPECT_FALSE(cache.Contains("bob", src));
  const std::string id = (*a)->hash();
  ASSERT_TRUE(cache.Find("alice", id).ok());
  absl::StatusOr<std::shared_ptr<const Model>> other = cache.Find("bob", id);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound);
  // A tenant whose name is another's prefix, or the empty one, shares nothing either.
  EXPECT_EQ(cache.Find("alic", id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(cache.Find("", id).status().code(), absl::StatusCode::kNotFound);
  auto b = cache.GetOrParse("bob", src, &cached);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(cached);
  EXPECT_NE(a->get(), b->get());
  EXPECT_EQ((*b)->hash(), id);  // the same id: a content hash, told to who sent the text
  EXPECT_EQ(cache.size(), 2);
  ASSERT_TRUE(cache.GetOrBuildSensitivityModel("alice", *a, {0}, &cached).ok());
  EXPECT_TRUE(cache.ContainsSensitivityModel("alice", id, true, {"a"}));
  EXPECT_FALSE(cache.ContainsSensitivityModel("bob", id, true, {"a"}));
  EXPECT_FALSE(cache.ContainsSensitivityModel("bob", src, false, {"a"}));
  ASSERT_TRUE(cache.GetOrBuildSensitivityModel("bob", *b, {0}, &cached).ok());
  EXPECT_FALSE(cached);
}

}  // namespace
}  // namespace ensolve::server
