// Philox4x32-10 against the published known-answer vectors, and the Box–Muller normals
// built on it: their math against libm, their moments, and their keying.
#include "engine/algorithms/philox.h"

#include <cmath>
#include <cstdint>
#include <set>

#include "gtest/gtest.h"

namespace ensolve::alg {
namespace {

// Random123 (D. E. Shaw Research), tests/kat_vectors, the three "philox4x32 10" lines:
// counter (4 words), key (2 words), expected output (4 words).
struct Kat {
  PhiloxU32 ctr[4], key[2], out[4];
};
constexpr Kat kKats[] = {
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000},
     {0x00000000, 0x00000000},
     {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

TEST(Philox, KnownAnswerVectors) {
  for (const Kat& k : kKats) {
    Philox4x32 c{{k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]}};
    const Philox4x32 x = Philox4x32R10(c, k.key);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(x.v[i], k.out[i]) << "word " << i;
  }
}

TEST(Philox, LogMatchesLibm) {
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    // Spread over (0, 1]: every binade down to 2^-53, and dense near 1.
    const double x =
        i < 100000 ? std::ldexp(1.0 + i * 1e-5, -(i % 54)) / 2.0 : 1.0 - (i - 100000) * 1e-11;
    if (!(x > 0 && x <= 1)) continue;
    const double want = std::log(x);
    const double got = PortableLogUnit(x);
    const double ulp = std::nextafter(std::abs(want), INFINITY) - std::abs(want);
    if (want != 0) worst = std::max(worst, std::abs(got - want) / ulp);
  }
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(PortableLogUnit(1.0), 0.0);
}

TEST(Philox, CosSinMatchLibm) {
  // Against long double references (2 pi u itself rounds in double).
  const long double two_pi = 6.283185307179586476925286766559005768L;
  double worst = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = i / 100000.0;
    double c, s;
    PortableCosSin2Pi(u, &c, &s);
    worst = std::max(worst, static_cast<double>(std::fabs(c - std::cos(two_pi * u))));
    worst = std::max(worst, static_cast<double>(std::fabs(s - std::sin(two_pi * u))));
  }
  EXPECT_LE(worst, 3e-16);
}

TEST(Philox, NormalMoments) {
  // 2e5 pairs: mean 0, variance 1, skewness 0, kurtosis 3, and the pair uncorrelated.
  const int n = 200000;
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0, cross = 0;
  for (int i = 0; i < n; ++i) {
    double a, b;
    NormalPair(42, i / 100, i % 100, 0, &a, &b);
    for (double z : {a, b}) {
      m1 += z;
      m2 += z * z;
      m3 += z * z * z;
      m4 += z * z * z * z;
    }
    cross += a * b;
  }
  const double k = 2.0 * n;
  EXPECT_NEAR(m1 / k, 0.0, 5 * std::sqrt(1 / k));
  EXPECT_NEAR(m2 / k, 1.0, 5 * std::sqrt(2 / k));
  EXPECT_NEAR(m3 / k, 0.0, 5 * std::sqrt(15 / k));
  EXPECT_NEAR(m4 / k, 3.0, 5 * std::sqrt(96 / k));
  EXPECT_NEAR(cross / n, 0.0, 5 * std::sqrt(1.0 / n));
}

TEST(Philox, EveryKeyPartChangesTheNumbers) {
  std::set<double> seen;
  auto draw = [&](PhiloxU64 seed, PhiloxU64 traj, PhiloxU32 step, PhiloxU32 pair) {
    double a, b;
    NormalPair(seed, traj, step, pair, &a, &b);
    EXPECT_TRUE(seen.insert(a).second);
    EXPECT_TRUE(seen.insert(b).second);
  };
  draw(1, 0, 0, 0);
  draw(2, 0, 0, 0);
  draw(1ull << 40, 0, 0, 0);  // the seed's high word
  draw(1, 1, 0, 0);
  draw(1, 1ull << 33, 0, 0);  // the trajectory's high word
  draw(1, 0, 1, 0);
  draw(1, 0, 0, 1);
}

}  // namespace
}  // namespace ensolve::alg
