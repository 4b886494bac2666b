// Host/device portability for the algorithm templates in this folder.
//
// These headers are the one source of truth for every integrator: the CPU backend compiles
// them ahead of time with a pack-of-lanes number type, and the CUDA backend hands their text
// to NVRTC at run time with plain float/double. They therefore include nothing from the
// standard library under NVRTC and use only the lane helpers below for anything that
// depends on a trajectory (masks instead of branches on the CPU, plain branches on the GPU).
#ifndef ENSOLVE_ENGINE_ALGORITHMS_HD_H_
#define ENSOLVE_ENGINE_ALGORITHMS_HD_H_

#if defined(__CUDACC_RTC__) || defined(__CUDACC__)
#define ENSOLVE_HD __host__ __device__ __forceinline__
#define ENSOLVE_HD_OUTLINE __host__ __device__ __forceinline__
#define ENSOLVE_HD_CONSTEXPR __host__ __device__ constexpr
#define ENSOLVE_DEVICE_COMPILE 1
#else
#include <cmath>
#define ENSOLVE_HD inline __attribute__((always_inline))
// A method's Step and Interpolate and the event root finder: kept out of line on the host,
// where one call runs a pack of lanes through thousands of operations. Inlined into
// Integrate (five Interpolate sites, the Step, the events), a high-order method made one
// function of several hundred KB per instruction set and precision, which took GCC minutes
// to compile; on the GPU everything is inlined into the kernel.
#define ENSOLVE_HD_OUTLINE inline __attribute__((noinline))
#define ENSOLVE_HD_CONSTEXPR constexpr
#endif

namespace ensolve::alg {

// LowLog and LowExp compute in float32 whatever the argument's type: for step-size control,
// which needs no more digits (float64 pow was the costliest operation of a float64 step on a
// GPU).
//
// Lane helpers for one trajectory per thread (GPU) or one trajectory per call (host
// reference). The CPU backend's pack types provide the same names, found by ADL.
template <class T>
ENSOLVE_HD T Select(bool m, T a, T b) {
  return m ? a : b;
}
ENSOLVE_HD bool Any(bool m) { return m; }

#ifdef ENSOLVE_DEVICE_COMPILE
ENSOLVE_HD float Abs(float x) { return fabsf(x); }
ENSOLVE_HD double Abs(double x) { return fabs(x); }
ENSOLVE_HD float Sqrt(float x) { return sqrtf(x); }
ENSOLVE_HD double Sqrt(double x) { return sqrt(x); }
ENSOLVE_HD float Pow(float x, float y) { return powf(x, y); }
ENSOLVE_HD double Pow(double x, double y) { return pow(x, y); }
ENSOLVE_HD float Min(float a, float b) { return fminf(a, b); }
ENSOLVE_HD double Min(double a, double b) { return fmin(a, b); }
ENSOLVE_HD float Max(float a, float b) { return fmaxf(a, b); }
ENSOLVE_HD double Max(double a, double b) { return fmax(a, b); }
ENSOLVE_HD bool IsFinite(float x) { return isfinite(x); }
ENSOLVE_HD bool IsFinite(double x) { return isfinite(x); }
ENSOLVE_HD float LowLog(float x) { return logf(x); }
ENSOLVE_HD double LowLog(double x) { return logf(static_cast<float>(x)); }
ENSOLVE_HD float LowExp(float x) { return expf(x); }
ENSOLVE_HD double LowExp(double x) { return expf(static_cast<float>(x)); }
#else
ENSOLVE_HD float Abs(float x) { return std::fabs(x); }
ENSOLVE_HD double Abs(double x) { return std::fabs(x); }
ENSOLVE_HD float Sqrt(float x) { return std::sqrt(x); }
ENSOLVE_HD double Sqrt(double x) { return std::sqrt(x); }
ENSOLVE_HD float Pow(float x, float y) { return std::pow(x, y); }
ENSOLVE_HD double Pow(double x, double y) { return std::pow(x, y); }
ENSOLVE_HD float Min(float a, float b) { return std::fmin(a, b); }
ENSOLVE_HD double Min(double a, double b) { return std::fmin(a, b); }
ENSOLVE_HD float Max(float a, float b) { return std::fmax(a, b); }
ENSOLVE_HD double Max(double a, double b) { return std::fmax(a, b); }
ENSOLVE_HD bool IsFinite(float x) { return std::isfinite(x); }
ENSOLVE_HD bool IsFinite(double x) { return std::isfinite(x); }
// On the host, LowLog and LowExp are written out (Cephes' logf and expf, S. L. Moshier:
// polynomials on a reduced argument, within about 2 ulp of the exact values) instead of
// calling libm: branch-free and without calls, the compiler vectorizes them across a pack's
// lanes (engine/cpu/pack.h calls these very functions per lane), and every instruction set
// and machine computes the same bits (libm picks its code per CPU).
ENSOLVE_HD unsigned FloatBits(float x) { return __builtin_bit_cast(unsigned, x); }
ENSOLVE_HD float BitsFloat(unsigned b) { return __builtin_bit_cast(float, b); }

ENSOLVE_HD float PortableLogf(float x) {
  // Every value is computed unconditionally and then selected, so that the compiler may
  // if-convert (a conditional floating-point operation could trap).
  const bool tiny = x < 1.17549435e-38f;  // subnormal (or <= 0): scale it into range first
  const float scaled = x * 8388608.0f;
  const float xs = tiny ? scaled : x;
  const unsigned bits = FloatBits(xs);
  int e = static_cast<int>((bits >> 23) & 0xffu) - 126 - (tiny ? 23 : 0);
  float m = BitsFloat((bits & 0x807fffffu) | 0x3f000000u);  // xs = m 2^e, m in [0.5, 1)
  const bool low = m < 0.707106781186547524f;
  e = low ? e - 1 : e;
  const float m2 = m + m - 1.0f, m1 = m - 1.0f;
  m = low ? m2 : m1;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  const float fe = static_cast<float>(e);
  y = y + fe * -2.12194440e-4f;
  y = y - 0.5f * z;
  float r = m + y + fe * 0.693359375f;
  r = x == 0.0f ? -__builtin_inff() : r;
  r = x == __builtin_inff() ? x : r;
  r = x < 0.0f ? __builtin_nanf("") : r;
  return x != x ? x : r;
}

ENSOLVE_HD float PortableExpf(float x) {
  // exp(x) overflows past 88.73 and is below the smallest subnormal before -103.98. NaN
  // computes with 0 (converting NaN to int is undefined: UBSan, fuzz_model) and is returned.
  const float xc = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : (x == x ? x : 0.0f));
  const float nf = xc * 1.44269504088896341f;
  const float half = BitsFloat((FloatBits(nf) & 0x80000000u) | 0x3f000000u);  // ±0.5 as nf
  const int n = static_cast<int>(nf + half);                                  // nearest
  const float fn = static_cast<float>(n);
  float r = xc - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  // 2^n as two normal factors (n in [-150, 129]).
  const int n1 = n / 2, n2 = n - n / 2;
  const float s1 = BitsFloat(static_cast<unsigned>(n1 + 127) << 23);
  const float s2 = BitsFloat(static_cast<unsigned>(n2 + 127) << 23);
  return x != x ? x : y * s1 * s2;
}

ENSOLVE_HD float LowLog(float x) { return PortableLogf(x); }
ENSOLVE_HD double LowLog(double x) { return PortableLogf(static_cast<float>(x)); }
ENSOLVE_HD float LowExp(float x) { return PortableExpf(x); }
ENSOLVE_HD double LowExp(double x) { return PortableExpf(static_cast<float>(x)); }
#endif

// Machine epsilon of the scalar type, without <limits>.
template <class S>
struct Epsilon;
template <>
struct Epsilon<float> {
  static constexpr float value = 1.1920928955078125e-07f;
};
template <>
struct Epsilon<double> {
  static constexpr double value = 2.220446049250313e-16;
};

// Interpolation weights b_i(θ) are computed in double at every precision and rounded once:
// Verner's are polynomials of degree 9 whose coefficients reach 1.1e4 while their values on
// [0, 1] stay below 2 in sum, so Horner in float32 loses up to 3.4e-3 in Σ_i |b_i(θ)|
// (vern9, measured), an error of 1e-2 at a save point inside a step of seconds. Widen gives
// a lane value's double type; Narrow<R> rounds back. The CPU's packs overload both (pack.h).
ENSOLVE_HD double Widen(float x) { return x; }
ENSOLVE_HD double Widen(double x) { return x; }
template <class R>
ENSOLVE_HD R Narrow(double x) {
  return static_cast<R>(x);
}

// Per-trajectory return codes; the values equal ensolve::RetCode's.
enum : int {
  kRetSuccess = 0,
  kRetMaxSteps = 1,
  kRetDtBelowMin = 2,
  kRetUnstable = 3,
  kRetTerminated = 4,
  kRetSingular = 5,
};

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_HD_H_
