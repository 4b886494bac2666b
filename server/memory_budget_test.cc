#include "server/memory_budget.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve::server {
namespace {

using ::testing::HasSubstr;

MemoryBudget::Limits Small() {
  MemoryBudget::Limits l;
  l.server_bytes = 1000;
  l.request_bytes = 600;
  l.tenant_bytes = 800;
  return l;
}

TEST(MemoryBudgetTest, ReservesAndReleasesOnDestruction) {
  MemoryBudget budget(Small());
  {
    auto a = budget.Open("a");
    ASSERT_TRUE(a->Reserve(100, "decoded inputs").ok());
    ASSERT_TRUE(a->Reserve(200, "buffered results").ok());
    EXPECT_EQ(a->reserved(), 300);
    EXPECT_EQ(budget.reserved(), 300);
    EXPECT_EQ(budget.tenant_reserved("a"), 300);
    a->Release(50);
    EXPECT_EQ(budget.reserved(), 250);
    a->Release(10000);  // at most what it holds
    EXPECT_EQ(a->reserved(), 0);
    ASSERT_TRUE(a->Reserve(123, "x").ok());
  }
  EXPECT_EQ(budget.reserved(), 0);
  EXPECT_EQ(budget.tenant_reserved("a"), 0);
}

TEST(MemoryBudgetTest, PerRequestLimitNamesTheFlagAndTheFigures) {
  MemoryBudget budget(Small());
  auto a = budget.Open("a");
  ASSERT_TRUE(a->Reserve(500, "decoded inputs").ok());
  const absl::Status s = a->Reserve(101, "buffered results");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "memory budget: buffered results need 101 bytes, so this request would hold 601 "
            "bytes, over the per-request limit of 600 bytes (--max_request_memory); use fewer "
            "trajectories per batch (batch_size), fewer save points or outputs, or split the "
            "ensemble");
  EXPECT_EQ(a->reserved(), 500);  // nothing reserved on error
  EXPECT_EQ(budget.reserved(), 500);
}

TEST(MemoryBudgetTest, TenantLimit) {
  MemoryBudget budget(Small());
  auto a1 = budget.Open("a"), a2 = budget.Open("a"), b = budget.Open("b");
  ASSERT_TRUE(a1->Reserve(500, "x").ok());
  const absl::Status s = a2->Reserve(400, "buffered results");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("tenant 'a' already holds 500 bytes of its limit of 800 bytes "
                        "(--tenant_max_memory)"));
  // Another tenant is not held back by a's share.
  EXPECT_TRUE(b->Reserve(400, "x").ok());
}

TEST(MemoryBudgetTest, ServerLimit) {
  MemoryBudget budget(Small());
  auto a = budget.Open("a"), b = budget.Open("b"), c = budget.Open("c");
  ASSERT_TRUE(a->Reserve(500, "x").ok());
  ASSERT_TRUE(b->Reserve(400, "x").ok());
  const absl::Status s = c->Reserve(200, "decoded inputs");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "memory budget: decoded inputs need 200 bytes, but only 100 bytes of the server's "
            "1000 bytes are free (--memory_budget); retry later");
  EXPECT_EQ(budget.tenant_reserved("c"), 0);
  a.reset();
  EXPECT_TRUE(c->Reserve(200, "decoded inputs").ok());
}

TEST(MemoryBudgetTest, FormatBytes) {
  EXPECT_EQ(FormatBytes(12), "12 bytes");
  EXPECT_EQ(FormatBytes(int64_t{3} << 20), "3.0 MiB (3145728 bytes)");
  EXPECT_EQ(FormatBytes(int64_t{5} << 30), "5.0 GiB (5368709120 bytes)");
}

}  // namespace
}  // namespace ensolve::server
