// A fixed-width pack of lanes, one trajectory per lane, with element-wise arithmetic and
// masks: the CPU backend's number type for the algorithm templates (engine/algorithms).
#ifndef ENSOLVE_ENGINE_CPU_PACK_H_
#define ENSOLVE_ENGINE_CPU_PACK_H_

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "engine/algorithms/hd.h"

// The solve code is compiled once per instruction set (isa.h); each build's packs, and so
// every template instantiated over them, live in that build's inline namespace.
#ifndef ENSOLVE_CPU_ISA_NS
#define ENSOLVE_CPU_ISA_NS base
#endif

namespace ensolve::cpu {
inline namespace ENSOLVE_CPU_ISA_NS {

// Every type holds its W lanes as an array of native vectors (GCC vector_size: 16 bytes for
// SSE2, 32 for AVX2, 64 for AVX-512, as the instruction set this file is compiled for
// allows): arithmetic is written on whole vectors, which the compiler keeps in registers,
// instead of loops over arrays of temporaries on the stack. A union gives per-lane access
// (`.v[l]`) for loading and retiring trajectories. Per-lane functions without a vector
// instruction (sqrt, pow, libm) run as a loop over an array copy of the lanes, which the
// compiler vectorizes where it can.
#define ENSOLVE_PACK_INLINE inline __attribute__((always_inline))

#if defined(__AVX512F__)
inline constexpr int kVectorBytes = 64;
#elif defined(__AVX__)
inline constexpr int kVectorBytes = 32;
#else
inline constexpr int kVectorBytes = 16;
#endif

namespace internal {

// W lanes of E as kChunks native vectors of kPer lanes.
template <class E, int W>
struct Chunks {
  static constexpr int kPer = W < kVectorBytes / static_cast<int>(sizeof(E))
                                  ? W
                                  : kVectorBytes / static_cast<int>(sizeof(E));
  static constexpr int kChunks = W / kPer;
  static_assert(kChunks * kPer == W, "pack width: a power of two");
  typedef E V __attribute__((vector_size(kPer * sizeof(E))));
};

// f(std::integral_constant<int, 0>) ... f(std::integral_constant<int, N - 1>).
template <int N, class F, int... Is>
ENSOLVE_PACK_INLINE void ForEach(F&& f, std::integer_sequence<int, Is...>) {
  (f(std::integral_constant<int, Is>{}), ...);
}
template <int N, class F>
ENSOLVE_PACK_INLINE void ForEach(F&& f) {
  ForEach<N>(f, std::make_integer_sequence<int, N>{});
}

template <class V, int Off, int... Is>
ENSOLVE_PACK_INLINE auto Slice(const V& v, std::integer_sequence<int, Is...>) {
  return __builtin_shufflevector(v, v, (Off + Is)...);
}
template <class V, int... Is>
ENSOLVE_PACK_INLINE auto Concat(const V& a, const V& b, std::integer_sequence<int, Is...>) {
  return __builtin_shufflevector(a, b, Is...);
}

}  // namespace internal

// Lanes of a condition: nonzero is true (comparisons give -1, lane writes may give 1).
template <int W>
struct Mask {
  using C = internal::Chunks<int32_t, W>;
  typedef typename C::V V;
  static constexpr int K = C::kChunks;
  union {
    V c[K];
    int32_t v[W];
  };
  Mask() = default;
  explicit Mask(bool b) {  // broadcast, like a scalar
    for (int k = 0; k < K; ++k) c[k] = V{} + (b ? -1 : 0);
  }
};

template <int W>
ENSOLVE_PACK_INLINE Mask<W> operator&(const Mask<W>& a, const Mask<W>& b) {
  Mask<W> r;
  for (int k = 0; k < Mask<W>::K; ++k) r.c[k] = a.c[k] & b.c[k];
  return r;
}
template <int W>
ENSOLVE_PACK_INLINE Mask<W> operator|(const Mask<W>& a, const Mask<W>& b) {
  Mask<W> r;
  for (int k = 0; k < Mask<W>::K; ++k) r.c[k] = a.c[k] | b.c[k];
  return r;
}
template <int W>
ENSOLVE_PACK_INLINE Mask<W> operator!(const Mask<W>& a) {
  Mask<W> r;
  for (int k = 0; k < Mask<W>::K; ++k) r.c[k] = a.c[k] == 0;
  return r;
}
template <int W>
ENSOLVE_PACK_INLINE bool Any(const Mask<W>& a) {
  typename Mask<W>::V acc = a.c[0];
  for (int k = 1; k < Mask<W>::K; ++k) acc |= a.c[k];
  constexpr int n = Mask<W>::C::kPer;
  int32_t x[n];
  __builtin_memcpy(x, &acc, sizeof x);
  int32_t r = 0;
  for (int l = 0; l < n; ++l) r |= x[l];
  return r != 0;
}

// Lanes of integers (counters, indices, return codes).
template <int W>
struct Ints {
  using C = internal::Chunks<int32_t, W>;
  typedef typename C::V V;
  static constexpr int K = C::kChunks;
  union {
    V c[K];
    int32_t v[W];
  };
  Ints() = default;
  Ints(int32_t x) {  // NOLINT: broadcast, like a scalar
    for (int k = 0; k < K; ++k) c[k] = V{} + x;
  }
};

template <int W>
ENSOLVE_PACK_INLINE Ints<W> operator+(const Ints<W>& a, const Ints<W>& b) {
  Ints<W> r;
  for (int k = 0; k < Ints<W>::K; ++k) r.c[k] = a.c[k] + b.c[k];
  return r;
}
template <int W>
ENSOLVE_PACK_INLINE Ints<W> operator+(const Ints<W>& a, int32_t b) {
  Ints<W> r;
  for (int k = 0; k < Ints<W>::K; ++k) r.c[k] = a.c[k] + b;
  return r;
}
template <int W>
ENSOLVE_PACK_INLINE Mask<W> operator>=(const Ints<W>& a, int32_t b) {
  Mask<W> r;
  for (int k = 0; k < Ints<W>::K; ++k) r.c[k] = a.c[k] >= b;
  return r;
}
template <int W>
ENSOLVE_PACK_INLINE Mask<W> operator==(const Ints<W>& a, int32_t b) {
  Mask<W> r;
  for (int k = 0; k < Ints<W>::K; ++k) r.c[k] = a.c[k] == b;
  return r;
}
template <int W>
ENSOLVE_PACK_INLINE Ints<W> Select(const Mask<W>& m, const Ints<W>& a, const Ints<W>& b) {
  Ints<W> r;
  for (int k = 0; k < Ints<W>::K; ++k) r.c[k] = m.c[k] != 0 ? a.c[k] : b.c[k];
  return r;
}

template <class T, int W>
struct Pack {
  using C = internal::Chunks<T, W>;
  typedef typename C::V V;
  static constexpr int K = C::kChunks;
  union {
    V c[K];
    T v[W];
  };
  Pack() = default;
  Pack(T x) {  // NOLINT: broadcast, like a scalar
    for (int k = 0; k < K; ++k) c[k] = V{} + x;
  }
};

namespace internal {

// The mask of per-chunk comparison results (lanes of T's width, -1 or 0).
template <class T, int W, class F>
ENSOLVE_PACK_INLINE Mask<W> Compare(F cmp) {
  Mask<W> m;
  using P = Pack<T, W>;
  if constexpr (sizeof(T) == sizeof(int32_t)) {
    for (int k = 0; k < P::K; ++k) m.c[k] = cmp(k);
  } else {
    // A mask chunk holds R chunks of doubles' lanes (R = 1 or 2).
    constexpr int kR = Mask<W>::C::kPer / P::C::kPer;
    using Half = typename Chunks<int32_t, P::C::kPer>::V;
    ForEach<Mask<W>::K>([&](auto j) {
      if constexpr (kR == 1) {
        m.c[j] = __builtin_convertvector(cmp(j), Half);
      } else {
        static_assert(kR == 2);
        const Half lo = __builtin_convertvector(cmp(2 * j), Half);
        const Half hi = __builtin_convertvector(cmp(2 * j + 1), Half);
        m.c[j] = Concat(lo, hi, std::make_integer_sequence<int, Mask<W>::C::kPer>{});
      }
    });
  }
  return m;
}

// The lanes of m selecting chunk k of a Pack<T, W>: integers of T's width, nonzero true.
template <class T, int W, int Kc>
ENSOLVE_PACK_INLINE auto Wide(const Mask<W>& m) {
  using P = Pack<T, W>;
  if constexpr (sizeof(T) == sizeof(int32_t)) {
    return m.c[Kc];
  } else {
    constexpr int kR = Mask<W>::C::kPer / P::C::kPer;
    using IV = typename Chunks<int64_t, P::C::kPer>::V;
    if constexpr (kR == 1) {
      return __builtin_convertvector(m.c[Kc], IV);
    } else {
      constexpr int kOff = (Kc % kR) * P::C::kPer;
      return __builtin_convertvector(
          Slice<typename Mask<W>::V, kOff>(m.c[Kc / kR],
                                           std::make_integer_sequence<int, P::C::kPer>{}),
          IV);
    }
  }
}

// f applied to each lane, through an array the compiler can vectorize a loop over.
template <class T, int W, class F>
ENSOLVE_PACK_INLINE Pack<T, W> Map(const Pack<T, W>& a, F f) {
  T x[W];
  __builtin_memcpy(x, a.c, sizeof x);
  for (int l = 0; l < W; ++l) x[l] = f(x[l]);
  Pack<T, W> r;
  __builtin_memcpy(r.c, x, sizeof x);
  return r;
}
template <class T, int W, class F>
ENSOLVE_PACK_INLINE Pack<T, W> Map2(const Pack<T, W>& a, const Pack<T, W>& b, F f) {
  T x[W], y[W];
  __builtin_memcpy(x, a.c, sizeof x);
  __builtin_memcpy(y, b.c, sizeof y);
  for (int l = 0; l < W; ++l) x[l] = f(x[l], y[l]);
  Pack<T, W> r;
  __builtin_memcpy(r.c, x, sizeof x);
  return r;
}

}  // namespace internal

#define ENSOLVE_PACK_BINARY(OP)                                                          \
  template <class T, int W>                                                              \
  ENSOLVE_PACK_INLINE Pack<T, W> operator OP(const Pack<T, W>& a, const Pack<T, W>& b) { \
    Pack<T, W> r;                                                                        \
    for (int k = 0; k < Pack<T, W>::K; ++k) r.c[k] = a.c[k] OP b.c[k];                   \
    return r;                                                                            \
  }                                                                                      \
  template <class T, int W>                                                              \
  ENSOLVE_PACK_INLINE Pack<T, W> operator OP(const Pack<T, W>& a, T b) {                 \
    Pack<T, W> r;                                                                        \
    for (int k = 0; k < Pack<T, W>::K; ++k) r.c[k] = a.c[k] OP b;                        \
    return r;                                                                            \
  }                                                                                      \
  template <class T, int W>                                                              \
  ENSOLVE_PACK_INLINE Pack<T, W> operator OP(T a, const Pack<T, W>& b) {                 \
    Pack<T, W> r;                                                                        \
    for (int k = 0; k < Pack<T, W>::K; ++k) r.c[k] = a OP b.c[k];                        \
    return r;                                                                            \
  }
ENSOLVE_PACK_BINARY(+)
ENSOLVE_PACK_BINARY(-)
ENSOLVE_PACK_BINARY(*)
ENSOLVE_PACK_BINARY(/)
#undef ENSOLVE_PACK_BINARY

#define ENSOLVE_PACK_COMPARE(OP)                                                      \
  template <class T, int W>                                                           \
  ENSOLVE_PACK_INLINE Mask<W> operator OP(const Pack<T, W>& a, const Pack<T, W>& b) { \
    return internal::Compare<T, W>([&](int k) { return a.c[k] OP b.c[k]; });          \
  }                                                                                   \
  template <class T, int W>                                                           \
  ENSOLVE_PACK_INLINE Mask<W> operator OP(const Pack<T, W>& a, T b) {                 \
    return internal::Compare<T, W>([&](int k) { return a.c[k] OP b; });               \
  }
ENSOLVE_PACK_COMPARE(<)
ENSOLVE_PACK_COMPARE(<=)
ENSOLVE_PACK_COMPARE(>)
ENSOLVE_PACK_COMPARE(>=)
ENSOLVE_PACK_COMPARE(==)
ENSOLVE_PACK_COMPARE(!=)
#undef ENSOLVE_PACK_COMPARE

template <class T, int W>
ENSOLVE_PACK_INLINE Pack<T, W> operator-(const Pack<T, W>& a) {
  Pack<T, W> r;
  for (int k = 0; k < Pack<T, W>::K; ++k) r.c[k] = -a.c[k];
  return r;
}

template <class T, int W>
ENSOLVE_PACK_INLINE Pack<T, W> Select(const Mask<W>& m, const Pack<T, W>& a, const Pack<T, W>& b) {
  Pack<T, W> r;
  internal::ForEach<Pack<T, W>::K>(
      [&](auto k) { r.c[k] = internal::Wide<T, W, decltype(k)::value>(m) != 0 ? a.c[k] : b.c[k]; });
  return r;
}
template <class T, int W>
ENSOLVE_PACK_INLINE Pack<T, W> Abs(const Pack<T, W>& a) {
  return internal::Map(a, [](T x) { return std::fabs(x); });
}
template <class T, int W>
ENSOLVE_PACK_INLINE Pack<T, W> Sqrt(const Pack<T, W>& a) {
  return internal::Map(a, [](T x) { return std::sqrt(x); });
}
template <class T, int W>
ENSOLVE_PACK_INLINE Pack<T, W> Pow(const Pack<T, W>& a, T b) {
  return internal::Map(a, [b](T x) { return std::pow(x, b); });
}
// float32 log and exp per lane, whatever T: the host's scalar functions of
// engine/algorithms/hd.h, which the compiler vectorizes across the lanes.
template <class T, int W>
ENSOLVE_PACK_INLINE Pack<T, W> LowLog(const Pack<T, W>& a) {
  return internal::Map(a, [](T x) { return T(alg::PortableLogf(static_cast<float>(x))); });
}
template <class T, int W>
ENSOLVE_PACK_INLINE Pack<T, W> LowExp(const Pack<T, W>& a) {
  return internal::Map(a, [](T x) { return T(alg::PortableExpf(static_cast<float>(x))); });
}
template <class T, int W>
ENSOLVE_PACK_INLINE Pack<T, W> Min(const Pack<T, W>& a, const Pack<T, W>& b) {
  Pack<T, W> r;
  for (int k = 0; k < Pack<T, W>::K; ++k) r.c[k] = a.c[k] < b.c[k] ? a.c[k] : b.c[k];
  return r;
}
template <class T, int W>
ENSOLVE_PACK_INLINE Pack<T, W> Max(const Pack<T, W>& a, const Pack<T, W>& b) {
  Pack<T, W> r;
  for (int k = 0; k < Pack<T, W>::K; ++k) r.c[k] = a.c[k] > b.c[k] ? a.c[k] : b.c[k];
  return r;
}
template <class T, int W>
ENSOLVE_PACK_INLINE Mask<W> IsFinite(const Pack<T, W>& a) {
  // x - x is 0 for finite x and NaN for NaN or infinity; cheaper than std::isfinite per lane.
  return internal::Compare<T, W>([&](int k) { return (a.c[k] - a.c[k]) == T(0); });
}

// A pack's lanes in double and back: interpolation weights are computed in double at every
// precision (alg::Widen in engine/algorithms/hd.h says why).
template <class T, int W>
ENSOLVE_PACK_INLINE Pack<double, W> Widen(const Pack<T, W>& a) {
  T x[W];
  double y[W];
  __builtin_memcpy(x, a.c, sizeof x);
  for (int l = 0; l < W; ++l) y[l] = x[l];
  Pack<double, W> r;
  __builtin_memcpy(r.c, y, sizeof y);
  return r;
}
template <class R, int W>
ENSOLVE_PACK_INLINE R Narrow(const Pack<double, W>& a) {
  R r;
  using T = std::remove_reference_t<decltype(r.v[0])>;
  double x[W];
  T y[W];
  __builtin_memcpy(x, a.c, sizeof x);
  for (int l = 0; l < W; ++l) y[l] = static_cast<T>(x[l]);
  __builtin_memcpy(r.c, y, sizeof y);
  return r;
}

#undef ENSOLVE_PACK_INLINE

}  // namespace ENSOLVE_CPU_ISA_NS
}  // namespace ensolve::cpu

#endif  // ENSOLVE_ENGINE_CPU_PACK_H_
