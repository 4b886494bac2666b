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
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(cache.GetOrParse(Source(i, 0)).ok());
  EXPECT_EQ(cache.size(), 2);
}

TEST(ModelCacheTest, BoundedByBytesLeastRecentlyUsedFirst) {
  const std::string a = Source(1, 1000), b = Source(2, 1000), c = Source(3, 1000);
  // Room for two of them.
  ModelCache cache(100, 2 * ModelCache::ModelBytes(a.size()) + 10, {}, nullptr);
  ASSERT_TRUE(cache.GetOrParse(a).ok());
  ASSERT_TRUE(cache.GetOrParse(b).ok());
  ASSERT_TRUE(cache.GetOrParse(a).ok());  // a is now the most recent
  ASSERT_TRUE(cache.GetOrParse(c).ok());  // evicts b
  EXPECT_EQ(cache.size(), 2);
  EXPECT_TRUE(cache.Contains(a));
  EXPECT_FALSE(cache.Contains(b));
  EXPECT_TRUE(cache.Contains(c));
  EXPECT_EQ(cache.bytes(), 2 * ModelCache::ModelBytes(a.size()));
}

}  // namespace
}  // namespace ensolve::server
