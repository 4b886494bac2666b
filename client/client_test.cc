// ResultAssembler: reassembly in any chunk order, and the stream contract enforced.
#include "client/client.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using ::testing::HasSubstr;

v1::SolveResponse Accepted(int64_t n) {
  v1::SolveResponse r;
  auto* a = r.mutable_accepted();
  a->set_trajectories(n);
  a->add_state_names("x");
  a->add_save_times(1.0);
  a->set_dtype(v1::DTYPE_FLOAT32);
  return r;
}

v1::SolveResponse Chunk(int64_t first, int64_t count) {
  v1::SolveResponse r;
  auto* c = r.mutable_chunk();
  c->set_first(first);
  c->set_count(count);
  std::vector<float> v;
  std::vector<int32_t> steps;
  std::vector<double> tf;
  for (int64_t i = 0; i < count; ++i) {
    v.push_back(static_cast<float>(first + i) + 0.5f);
    steps.push_back(static_cast<int32_t>(first + i));
    tf.push_back(0.25 * static_cast<double>(first + i));
  }
  c->mutable_states()->set_dtype(v1::DTYPE_FLOAT32);
  for (int64_t d : {count, int64_t{1}, int64_t{1}}) c->mutable_states()->add_shape(d);
  c->mutable_states()->set_data(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  c->mutable_retcodes()->set_data(std::string(count, '\0'));
  c->mutable_accepted_steps()->set_data(reinterpret_cast<const char*>(steps.data()), count * 4);
  c->mutable_rejected_steps()->set_data(std::string(count * 4, '\0'));
  c->mutable_rhs_evals()->set_data(reinterpret_cast<const char*>(steps.data()), count * 4);
  c->mutable_t_final()->set_data(reinterpret_cast<const char*>(tf.data()), count * 8);
  return r;
}

v1::SolveResponse Summary() {
  v1::SolveResponse r;
  r.mutable_summary()->set_trajectories(1);
  return r;
}

TEST(ResultAssembler, ReassemblesChunksInAnyOrder) {
  ResultAssembler a;
  ASSERT_TRUE(a.Add(Accepted(10)).ok());
  ASSERT_TRUE(a.Add(Chunk(6, 4)).ok());
  ASSERT_TRUE(a.Add(Chunk(0, 6)).ok());
  ASSERT_TRUE(a.Add(Summary()).ok());
  absl::StatusOr<SolveResult> r = a.Take();
  ASSERT_TRUE(r.ok()) << r.status();
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(r->state(i, 0, 0), i + 0.5);
    EXPECT_EQ(r->accepted_steps[i], i);
    EXPECT_EQ(r->rhs_evals[i], i);
    EXPECT_EQ(r->t_final[i], 0.25 * i);
  }
}

TEST(ResultAssembler, EnforcesTheStreamContract) {
  ResultAssembler a;
  EXPECT_FALSE(a.Add(Chunk(0, 1)).ok());  // before accepted
  ASSERT_TRUE(a.Add(Accepted(4)).ok());
  EXPECT_THAT(a.Add(Chunk(3, 2)).message(), HasSubstr("outside 4 trajectories"));
  ASSERT_TRUE(a.Add(Chunk(0, 2)).ok());
  absl::Status dup = a.Add(Chunk(1, 2));
  EXPECT_EQ(dup.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(dup.message(), HasSubstr("trajectory 1 arrived twice"));
  v1::SolveResponse bad = Chunk(2, 1);
  bad.mutable_chunk()->mutable_states()->mutable_data()->pop_back();
  EXPECT_THAT(a.Add(bad).message(), HasSubstr("wrong number of bytes"));
  ASSERT_TRUE(a.Add(Summary()).ok());
  EXPECT_EQ(a.Take().status().code(), absl::StatusCode::kDataLoss);  // 2 of 4 arrived
}

}  // namespace
}  // namespace ensolve
