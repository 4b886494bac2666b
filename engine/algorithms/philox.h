// The random numbers of stochastic solves: Philox4x32-10, a counter-based generator
// (J. K. Salmon, M. A. Moraes, R. O. Dror and D. E. Shaw, "Parallel random numbers: as easy
// as 1, 2, 3", SC'11, 2011), and standard normals from it by the Box–Muller transform.
// Written once for host and device (ENSOLVE_HD, no standard library), so the CPU backend
// and the NVRTC kernels compute the same numbers.
//
// A normal is a pure function of (seed, trajectory, step, Wiener index): the Philox block
// with counter (Wiener index / 2, step, trajectory low 32 bits, trajectory high 32 bits)
// and key (seed low 32 bits, seed high 32 bits) gives the normals of Wiener processes
// 2j and 2j + 1 (j = index / 2). So a trajectory's path does not depend on the batch it is
// solved in, the lane or thread, the instruction set or the device. `trajectory` is the
// global index (SolveRequest.first_trajectory + the index within the request).
//
// Box–Muller (G. E. P. Box and M. E. Muller, Ann. Math. Statist. 29, 1958): from the four
// words x0..x3 of a block, with a = (x1:x0) >> 12 and b = (x3:x2) >> 12 (the top 52 bits of
// the two 64-bit halves), u1 = 1 - a 2^-52 in (0, 1] and u2 = b 2^-52 in [0, 1), and
//   z0 = sqrt(-2 log u1) cos(2 pi u2),  z1 = sqrt(-2 log u1) sin(2 pi u2),
// in float64 whatever the solve's precision. log, sin and cos are written out below as
// branch-free polynomials in plain double arithmetic (no libm: its results differ between
// machines), so every host computes the same bits; a GPU may contract a multiply and an
// add into one fused operation and so differ in the last bits.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_PHILOX_H_
#define ENSOLVE_ENGINE_ALGORITHMS_PHILOX_H_

#include "engine/algorithms/hd.h"

namespace ensolve::alg {

using PhiloxU32 = unsigned int;
using PhiloxU64 = unsigned long long;
static_assert(sizeof(PhiloxU32) == 4 && sizeof(PhiloxU64) == 8, "Philox needs 32/64-bit words");

struct Philox4x32 {
  PhiloxU32 v[4];
};

// The Philox4x32 constants (Salmon et al., table 2; Random123's philox.h).
inline constexpr PhiloxU32 kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
inline constexpr PhiloxU32 kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

ENSOLVE_HD void PhiloxRound(PhiloxU32* c, PhiloxU32 k0, PhiloxU32 k1) {
  const PhiloxU64 p0 = static_cast<PhiloxU64>(kPhiloxM0) * c[0];
  const PhiloxU64 p1 = static_cast<PhiloxU64>(kPhiloxM1) * c[2];
  const PhiloxU32 hi0 = static_cast<PhiloxU32>(p0 >> 32), lo0 = static_cast<PhiloxU32>(p0);
  const PhiloxU32 hi1 = static_cast<PhiloxU32>(p1 >> 32), lo1 = static_cast<PhiloxU32>(p1);
  const PhiloxU32 c1 = c[1], c3 = c[3];
  c[0] = hi1 ^ c1 ^ k0;
  c[1] = lo1;
  c[2] = hi0 ^ c3 ^ k1;
  c[3] = lo0;
}

// Philox4x32 with 10 rounds of counter `ctr` under key `key` (the key is bumped by the Weyl
// constants between rounds). Written out, without a loop: the CPU backend calls it in a
// loop over a pack's lanes, which the compiler vectorizes only without inner control flow.
ENSOLVE_HD Philox4x32 Philox4x32R10(Philox4x32 ctr, const PhiloxU32* key) {
  const PhiloxU32 k0 = key[0], k1 = key[1];
  PhiloxRound(ctr.v, k0, k1);
  PhiloxRound(ctr.v, k0 + 1 * kPhiloxW0, k1 + 1 * kPhiloxW1);
  PhiloxRound(ctr.v, k0 + 2 * kPhiloxW0, k1 + 2 * kPhiloxW1);
  PhiloxRound(ctr.v, k0 + 3 * kPhiloxW0, k1 + 3 * kPhiloxW1);
  PhiloxRound(ctr.v, k0 + 4 * kPhiloxW0, k1 + 4 * kPhiloxW1);
  PhiloxRound(ctr.v, k0 + 5 * kPhiloxW0, k1 + 5 * kPhiloxW1);
  PhiloxRound(ctr.v, k0 + 6 * kPhiloxW0, k1 + 6 * kPhiloxW1);
  PhiloxRound(ctr.v, k0 + 7 * kPhiloxW0, k1 + 7 * kPhiloxW1);
  PhiloxRound(ctr.v, k0 + 8 * kPhiloxW0, k1 + 8 * kPhiloxW1);
  PhiloxRound(ctr.v, k0 + 9 * kPhiloxW0, k1 + 9 * kPhiloxW1);
  return ctr;
}

#ifdef ENSOLVE_DEVICE_COMPILE
ENSOLVE_HD PhiloxU64 DoubleBits(double x) {
  return static_cast<PhiloxU64>(__double_as_longlong(x));
}
ENSOLVE_HD double BitsDouble(PhiloxU64 b) {
  return __longlong_as_double(static_cast<long long>(b));
}
#else
ENSOLVE_HD PhiloxU64 DoubleBits(double x) { return __builtin_bit_cast(PhiloxU64, x); }
ENSOLVE_HD double BitsDouble(PhiloxU64 b) { return __builtin_bit_cast(double, b); }
#endif

// log(x) for x in [2^-52, 1] (the Box–Muller u1): x = m 2^e with m in [sqrt(1/2), sqrt(2)),
// log m = 2 atanh(f), f = (m - 1) / (m + 1), |f| <= 0.172, by its series to f^23 (the next
// term is below 2^-60 relative); ln 2 in two parts (fdlibm's ln2_hi, ln2_lo).
ENSOLVE_HD double PortableLogUnit(double x) {
  // Integer and double work stays in 64-bit lanes (the exponent is turned into a double by
  // the 2^52 trick, not a conversion), so that the CPU backend's loop over a pack's lanes
  // vectorizes.
  const PhiloxU64 bits = DoubleBits(x);
  double e = BitsDouble(0x4330000000000000ull | (bits >> 52)) - 4503599627370496.0 - 1023.0;
  double m = BitsDouble((bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull);  // [1, 2)
  const bool big = m > 1.4142135623730951;
  m = big ? m * 0.5 : m;
  e = big ? e + 1.0 : e;
  const double f = (m - 1.0) / (m + 1.0);
  const double s = f * f;
  double p = 1.0 / 23.0;
  p = p * s + 1.0 / 21.0;
  p = p * s + 1.0 / 19.0;
  p = p * s + 1.0 / 17.0;
  p = p * s + 1.0 / 15.0;
  p = p * s + 1.0 / 13.0;
  p = p * s + 1.0 / 11.0;
  p = p * s + 1.0 / 9.0;
  p = p * s + 1.0 / 7.0;
  p = p * s + 1.0 / 5.0;
  p = p * s + 1.0 / 3.0;
  const double fe = e;
  const double log_m = 2.0 * f + 2.0 * f * (s * p);
  return fe * 6.93147180369123816490e-01 + (log_m + fe * 1.90821492927058770002e-10);
}

// cos(2 pi u) and sin(2 pi u) for u in [0, 1): 4u = k + r with k the nearest integer and
// r in [-1/2, 1/2] (both exact), theta = r pi/2 in [-pi/4, pi/4], Taylor series of sin to
// theta^19 and of cos to theta^20 (next terms below 2^-56), then the quadrant k.
ENSOLVE_HD void PortableCosSin2Pi(double u, double* c_out, double* s_out) {
  const double v = 4.0 * u;
  // k = floor(v + 1/2) in 0..4, by adding and removing 2^52 (exact: v + 1/2 < 2^51) after
  // rounding toward the lower integer.
  const double vh = v + 0.5;
  double k = (vh + 4503599627370496.0) - 4503599627370496.0;  // nearest (ties to even)
  k = k > vh ? k - 1.0 : k;
  const double r = v - k;
  const double th = r * 1.5707963267948966;
  const double t2 = th * th;
  double sp = -1.0 / 121645100408832000.0;  // -1/19!
  sp = sp * t2 + 1.0 / 355687428096000.0;   // 1/17!
  sp = sp * t2 - 1.0 / 1307674368000.0;     // 1/15!
  sp = sp * t2 + 1.0 / 6227020800.0;        // 1/13!
  sp = sp * t2 - 1.0 / 39916800.0;          // 1/11!
  sp = sp * t2 + 1.0 / 362880.0;            // 1/9!
  sp = sp * t2 - 1.0 / 5040.0;              // 1/7!
  sp = sp * t2 + 1.0 / 120.0;               // 1/5!
  sp = sp * t2 - 1.0 / 6.0;                 // 1/3!
  const double sn = th + th * (t2 * sp);
  double cp = 1.0 / 2432902008176640000.0;  // 1/20!
  cp = cp * t2 - 1.0 / 6402373705728000.0;  // 1/18!
  cp = cp * t2 + 1.0 / 20922789888000.0;    // 1/16!
  cp = cp * t2 - 1.0 / 87178291200.0;       // 1/14!
  cp = cp * t2 + 1.0 / 479001600.0;         // 1/12!
  cp = cp * t2 - 1.0 / 3628800.0;           // 1/10!
  cp = cp * t2 + 1.0 / 40320.0;             // 1/8!
  cp = cp * t2 - 1.0 / 720.0;               // 1/6!
  cp = cp * t2 + 1.0 / 24.0;                // 1/4!
  cp = cp * t2 - 0.5;                       // 1/2!
  const double cs = 1.0 + t2 * cp;
  // angle = k pi/2 + theta (k = 4 is k = 0): single selects, without control flow.
  const bool swap = (k == 1.0) | (k == 3.0);
  const double c = swap ? sn : cs;
  const double s = swap ? cs : sn;
  const bool c_neg = (k == 1.0) | (k == 2.0);
  const bool s_neg = (k == 2.0) | (k == 3.0);
  *c_out = c_neg ? -c : c;
  *s_out = s_neg ? -s : s;
}

// The standard normals of Wiener processes 2 pair and 2 pair + 1 at (seed, trajectory,
// step), as documented at the top of this file.
ENSOLVE_HD void NormalPair(PhiloxU64 seed, PhiloxU64 trajectory, PhiloxU32 step, PhiloxU32 pair,
                           double* z0, double* z1) {
  const PhiloxU32 key[2] = {static_cast<PhiloxU32>(seed), static_cast<PhiloxU32>(seed >> 32)};
  const Philox4x32 ctr = {
      {pair, step, static_cast<PhiloxU32>(trajectory), static_cast<PhiloxU32>(trajectory >> 32)}};
  const Philox4x32 x = Philox4x32R10(ctr, key);
  // 1 + a 2^-52 for the top 52 bits a of each half, by setting the exponent (exact).
  const double one_a =
      BitsDouble(0x3ff0000000000000ull | ((static_cast<PhiloxU64>(x.v[1]) << 32 | x.v[0]) >> 12));
  const double one_b =
      BitsDouble(0x3ff0000000000000ull | ((static_cast<PhiloxU64>(x.v[3]) << 32 | x.v[2]) >> 12));
  const double u1 = 2.0 - one_a;  // (0, 1]
  const double u2 = one_b - 1.0;  // [0, 1)
  const double radius = Sqrt(-2.0 * PortableLogUnit(u1));
  double c, s;
  PortableCosSin2Pi(u2, &c, &s);
  *z0 = radius * c;
  *z1 = radius * s;
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_PHILOX_H_
