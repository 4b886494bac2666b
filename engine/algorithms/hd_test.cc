// The portable math of hd.h at its edges. PortableExpf(NaN) once converted NaN to int
// (undefined behaviour; UBSan flagged it through fuzz_model, a trbdf2 solve of Robertson):
// scripts/sanitize.sh runs this test under UBSan.
#include "engine/algorithms/hd.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace ensolve::alg {
namespace {

TEST(PortableExpf, NanAndInfinities) {
  EXPECT_TRUE(std::isnan(PortableExpf(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(std::isnan(PortableExpf(-std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(PortableExpf(std::numeric_limits<float>::infinity()),
            std::numeric_limits<float>::infinity());
  EXPECT_EQ(PortableExpf(-std::numeric_limits<float>::infinity()), 0.0f);
}

TEST(PortableExpf, CloseToStdExp) {
  for (float x : {-80.0f, -1.5f, 0.0f, 0.3f, 1.0f, 10.0f, 80.0f}) {
    EXPECT_NEAR(PortableExpf(x) / std::exp(x), 1.0f, 1e-6f) << x;
  }
}

}  // namespace
}  // namespace ensolve::alg
