// ShardedClient's pieces without a server: target resolution, the ensemble's size, shard
// requests. tests/scale_out_test.cc runs it against real servers.
#include "client/sharded_client.h"

#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

TEST(ResolveTargetTest, ListsAndLiterals) {
  EXPECT_THAT(*ResolveTarget("127.0.0.1:2,127.0.0.1:1, 127.0.0.1:2"),
              ElementsAre("127.0.0.1:1", "127.0.0.1:2"));
  EXPECT_THAT(*ResolveTarget("ipv4:127.0.0.1:5,127.0.0.2:5"),
              ElementsAre("127.0.0.1:5", "127.0.0.2:5"));
  EXPECT_THAT(*ResolveTarget("ipv6:[::1]:7"), ElementsAre("[::1]:7"));
  EXPECT_THAT(*ResolveTarget("unix:/tmp/s"), ElementsAre("unix:/tmp/s"));
}

TEST(ResolveTargetTest, DnsNamesResolveToEveryAddress) {
  // localhost comes from /etc/hosts: 127.0.0.1 and maybe ::1.
  absl::StatusOr<std::vector<std::string>> a = ResolveTarget("dns:///localhost:50051");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(*a, Contains("127.0.0.1:50051"));
  EXPECT_EQ(*ResolveTarget("dns://8.8.8.8/localhost:50051"), *a);  // authority ignored
  EXPECT_EQ(*ResolveTarget("localhost:50051"), *a);                // like gRPC's default
}

TEST(ResolveTargetTest, Errors) {
  EXPECT_EQ(ResolveTarget("nohostport").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveTarget("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveTarget("ipv6:[::1").status().code(), absl::StatusCode::kInvalidArgument);
  // (A name that does not resolve is UNAVAILABLE; not tried here: it would ask a DNS server.)
}

v1::Tensor Rows(int64_t rows, int cols) {
  v1::Tensor t;
  t.set_dtype(v1::DTYPE_FLOAT64);
  t.add_shape(rows);
  t.add_shape(cols);
  std::vector<double> v(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  t.set_data(reinterpret_cast<const char*>(v.data()), v.size() * 8);
  return t;
}

TEST(ShardRequestTest, SizeFromTrajectoriesRowsOrGrid) {
  v1::SolveRequest r;
  r.set_trajectories(7);
  EXPECT_EQ(RequestedTrajectories(r), 7);
  r.set_trajectories(0);
  EXPECT_EQ(RequestedTrajectories(r), 0);
  *r.mutable_u0()->mutable_values() = Rows(5, 2);
  EXPECT_EQ(RequestedTrajectories(r), 5);
  r.clear_u0();
  v1::Grid* g = r.mutable_params()->mutable_sampler()->mutable_grid();
  g->add_points(4);
  g->add_points(3);
  EXPECT_EQ(RequestedTrajectories(r), 12);
  r.set_first_trajectory(2);
  EXPECT_EQ(RequestedTrajectories(r), 10);
}

TEST(ShardRequestTest, SlicesPerTrajectoryRowsAndOffsetsSamplers) {
  v1::SolveRequest r;
  r.set_model_source("state x = 1\nx' = -x\n");
  r.set_trajectories(10);
  r.set_first_trajectory(100);
  r.set_batch_size(3);
  r.mutable_options()->set_t1(2);
  *r.mutable_u0()->mutable_values() = Rows(10, 2);     // per trajectory: sliced
  r.mutable_params()->mutable_sampler()->set_seed(9);  // a sampler: kept
  const v1::SolveRequest s = ShardRequest(r, 10, 4, 3);
  EXPECT_EQ(s.model_source(), r.model_source());
  EXPECT_EQ(s.trajectories(), 3);
  EXPECT_EQ(s.first_trajectory(), 104);
  EXPECT_EQ(s.batch_size(), 3);
  EXPECT_EQ(s.options().t1(), 2);
  EXPECT_EQ(s.params().sampler().seed(), 9u);
  ASSERT_THAT(s.u0().values().shape(), ElementsAre(3, 2));
  std::vector<double> v(6);
  ASSERT_EQ(s.u0().values().data().size(), 48u);
  std::memcpy(v.data(), s.u0().values().data().data(), 48);
  EXPECT_THAT(v, ElementsAre(8, 9, 10, 11, 12, 13));  // rows 4..6

  *r.mutable_u0()->mutable_values() = Rows(1, 2);  // one shared row: kept
  EXPECT_THAT(ShardRequest(r, 10, 4, 3).u0().values().shape(), ElementsAre(1, 2));
}

// Every form of the model travels with each shard: text, id and raw kernel.
TEST(ShardRequestTest, KeepsTheModelInEveryForm) {
  v1::SolveRequest r;
  r.set_trajectories(10);
  r.set_model_id("feedface");
  EXPECT_EQ(ShardRequest(r, 10, 0, 5).model_id(), "feedface");
  v1::RawKernel* raw = r.mutable_raw_kernel();
  raw->set_cuda_source("__device__ void ModelRhs(R t, const R* u, const R* p, R* du) {}");
  raw->add_states("x");
  raw->add_state_defaults(2);
  const v1::SolveRequest s = ShardRequest(r, 10, 5, 5);
  ASSERT_EQ(s.model_case(), v1::SolveRequest::kRawKernel);
  EXPECT_EQ(s.raw_kernel().SerializeAsString(), r.raw_kernel().SerializeAsString());
}

}  // namespace
}  // namespace ensolve
