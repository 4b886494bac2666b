#include "server/tenant_limits.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace ensolve::server {
namespace {

TEST(TenantLimitsTest, JobsTrajectoriesAndSteps) {
  TenantLimits limits({/*max_jobs=*/2, /*max_trajectories=*/100, /*max_steps=*/1000});
  auto a1 = limits.Admit("a", 40, 400);
  ASSERT_TRUE(a1.ok());
  auto a2 = limits.Admit("a", 70, 10);
  EXPECT_EQ(a2.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(a2.status().message(),
            "tenant 'a' has 40 trajectories admitted and this job adds 70, over its limit of 100 "
            "(--tenant_max_trajectories); retry when its other jobs finish");
  auto a3 = limits.Admit("a", 10, 700);
  EXPECT_EQ(a3.status().message(),
            "tenant 'a' has 400 trajectory-steps (trajectories x max_steps) admitted and this job "
            "adds 700, over its limit of 1000 (--tenant_max_steps); retry when its other jobs "
            "finish");
  auto a4 = limits.Admit("a", 10, 10);
  ASSERT_TRUE(a4.ok());
  auto a5 = limits.Admit("a", 1, 1);
  EXPECT_EQ(a5.status().message(),
            "tenant 'a' has 2 jobs admitted and this job adds 1, over its limit of 2 "
            "(--tenant_max_jobs); retry when its other jobs finish");
  // Another tenant has its own share.
  EXPECT_TRUE(limits.Admit("b", 100, 1000).ok());
  EXPECT_EQ(limits.usage("a").jobs, 2);
  EXPECT_EQ(limits.usage("a").trajectories, 50);
  a1->reset();
  EXPECT_EQ(limits.usage("a").trajectories, 10);
  EXPECT_TRUE(limits.Admit("a", 90, 990).ok());
}

TEST(TenantLimitsTest, ZeroMeansNoLimit) {
  TenantLimits limits({});
  std::vector<std::unique_ptr<TenantLimits::Lease>> leases;
  for (int i = 0; i < 1000; ++i)
    leases.push_back(*limits.Admit("a", int64_t{1} << 40, int64_t{1} << 50));
  EXPECT_EQ(limits.usage("a").jobs, 1000);
  leases.clear();
  EXPECT_EQ(limits.usage("a").jobs, 0);
}

}  // namespace
}  // namespace ensolve::server
