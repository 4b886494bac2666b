#include "client/cli_inputs.h"

#include <fstream>

#include "client/tensor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SamplerSpec, ParsesEachKind) {
  absl::StatusOr<v1::Sampler> u = ParseSamplerSpec("uniform:seed=1:lo=0,0,0:hi=10,28,2.67");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->seed(), 1u);
  EXPECT_THAT(u->uniform().lo(), ElementsAre(0, 0, 0));
  EXPECT_THAT(u->uniform().hi(), ElementsAre(10, 28, 2.67));

  absl::StatusOr<v1::Sampler> n = ParseSamplerSpec("normal:seed=7:mean=1,2:sd=0.5,0");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_THAT(n->normal().mean(), ElementsAre(1, 2));
  EXPECT_THAT(n->normal().stddev(), ElementsAre(0.5, 0));

  absl::StatusOr<v1::Sampler> g = ParseSamplerSpec("grid:lo=0,1:hi=1,2:n=3,4");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_THAT(g->grid().points(), ElementsAre(3, 4));
}

TEST(SamplerSpec, ErrorsNameThePart) {
  EXPECT_THAT(ParseSamplerSpec("cauchy:seed=1").status().message(), HasSubstr("'cauchy'"));
  EXPECT_THAT(ParseSamplerSpec("uniform:lo=0,x").status().message(), HasSubstr("'x'"));
  EXPECT_THAT(ParseSamplerSpec("uniform:mean=1").status().message(), HasSubstr("'mean'"));
  EXPECT_THAT(ParseSamplerSpec("grid:n=1.5").status().message(), HasSubstr("'1.5'"));
  EXPECT_THAT(ParseSamplerSpec("normal:seed=-1").status().message(), HasSubstr("seed"));
}

TEST(SaveAt, RangeListOrNothing) {
  absl::StatusOr<v1::SaveAt> r = ParseSaveAt("0:0.1:10");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->range().start(), 0);
  EXPECT_EQ(r->range().step(), 0.1);
  EXPECT_EQ(r->range().stop(), 10);
  EXPECT_THAT(ParseSaveAt("1,2.5,4")->times(), ElementsAre(1, 2.5, 4));
  EXPECT_FALSE(ParseSaveAt("")->has_range());
  EXPECT_FALSE(ParseSaveAt("0:1").ok());
}

TEST(ReadTable, CsvWithHeaderCommentsAndBlankLines) {
  const std::string path = ::testing::TempDir() + "/t.csv";
  std::ofstream(path) << "a,b\n1,2\n\n# comment\n3, 4.5\n";
  absl::StatusOr<v1::Tensor> t = ReadTable(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->shape(), ElementsAre(2, 2));
  EXPECT_THAT(*ToDoubles(*t), ElementsAre(1, 2, 3, 4.5));

  std::ofstream(path) << "1,2\n3\n";
  EXPECT_THAT(ReadTable(path).status().message(), HasSubstr(":2: 1 columns"));
  std::ofstream(path) << "1,2\nx,y\n";
  EXPECT_THAT(ReadTable(path).status().message(), HasSubstr(":2: not a row of numbers"));
}

}  // namespace
}  // namespace ensolve
