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
#define ENSOLVE_HD_CONSTEXPR __host__ __device__ constexpr
#define ENSOLVE_DEVICE_COMPILE 1
#else
#include <cmath>
#define ENSOLVE_HD inline __attribute__((always_inline))
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
ENSOLVE_HD float LowLog(float x) { return std::log(x); }
ENSOLVE_HD double LowLog(double x) { return std::log(static_cast<float>(x)); }
ENSOLVE_HD float LowExp(float x) { return std::exp(x); }
ENSOLVE_HD double LowExp(double x) { return std::exp(static_cast<float>(x)); }
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
