// A fixed-width pack of lanes, one trajectory per lane, with element-wise arithmetic and
// masks: the CPU backend's number type for the algorithm templates (engine/algorithms).
// Loops over W lanes are written so the compiler vectorizes them.
#ifndef ENSOLVE_ENGINE_CPU_PACK_H_
#define ENSOLVE_ENGINE_CPU_PACK_H_

#include <cmath>
#include <cstdint>

namespace ensolve::cpu {

#define ENSOLVE_LANES for (int l = 0; l < W; ++l)

template <int W>
struct Mask {
  int32_t v[W];  // 0 or 1
  Mask() = default;
  explicit Mask(bool b) {  // broadcast, like a scalar
    for (int l = 0; l < W; ++l) v[l] = b ? 1 : 0;
  }
};

template <int W>
inline Mask<W> operator&(const Mask<W>& a, const Mask<W>& b) {
  Mask<W> r;
  ENSOLVE_LANES r.v[l] = a.v[l] & b.v[l];
  return r;
}
template <int W>
inline Mask<W> operator|(const Mask<W>& a, const Mask<W>& b) {
  Mask<W> r;
  ENSOLVE_LANES r.v[l] = a.v[l] | b.v[l];
  return r;
}
template <int W>
inline Mask<W> operator!(const Mask<W>& a) {
  Mask<W> r;
  ENSOLVE_LANES r.v[l] = a.v[l] ^ 1;
  return r;
}
template <int W>
inline bool Any(const Mask<W>& a) {
  int32_t x = 0;
  ENSOLVE_LANES x |= a.v[l];
  return x != 0;
}

// Lanes of integers (counters, indices, return codes).
template <int W>
struct Ints {
  int32_t v[W];
  Ints() = default;
  Ints(int32_t x) {  // NOLINT: broadcast, like a scalar
    ENSOLVE_LANES v[l] = x;
  }
};

template <int W>
inline Ints<W> operator+(const Ints<W>& a, const Ints<W>& b) {
  Ints<W> r;
  ENSOLVE_LANES r.v[l] = a.v[l] + b.v[l];
  return r;
}
template <int W>
inline Ints<W> operator+(const Ints<W>& a, int32_t b) {
  return a + Ints<W>(b);
}
template <int W>
inline Mask<W> operator>=(const Ints<W>& a, int32_t b) {
  Mask<W> r;
  ENSOLVE_LANES r.v[l] = a.v[l] >= b;
  return r;
}
template <int W>
inline Mask<W> operator==(const Ints<W>& a, int32_t b) {
  Mask<W> r;
  ENSOLVE_LANES r.v[l] = a.v[l] == b;
  return r;
}
template <int W>
inline Ints<W> Select(const Mask<W>& m, const Ints<W>& a, const Ints<W>& b) {
  Ints<W> r;
  ENSOLVE_LANES r.v[l] = m.v[l] ? a.v[l] : b.v[l];
  return r;
}

template <class T, int W>
struct Pack {
  T v[W];
  Pack() = default;
  Pack(T x) {  // NOLINT: broadcast, like a scalar
    ENSOLVE_LANES v[l] = x;
  }
};

#define ENSOLVE_PACK_BINARY(OP)                                             \
  template <class T, int W>                                                 \
  inline Pack<T, W> operator OP(const Pack<T, W>& a, const Pack<T, W>& b) { \
    Pack<T, W> r;                                                           \
    ENSOLVE_LANES r.v[l] = a.v[l] OP b.v[l];                                \
    return r;                                                               \
  }                                                                         \
  template <class T, int W>                                                 \
  inline Pack<T, W> operator OP(const Pack<T, W>& a, T b) {                 \
    Pack<T, W> r;                                                           \
    ENSOLVE_LANES r.v[l] = a.v[l] OP b;                                     \
    return r;                                                               \
  }                                                                         \
  template <class T, int W>                                                 \
  inline Pack<T, W> operator OP(T a, const Pack<T, W>& b) {                 \
    Pack<T, W> r;                                                           \
    ENSOLVE_LANES r.v[l] = a OP b.v[l];                                     \
    return r;                                                               \
  }
ENSOLVE_PACK_BINARY(+)
ENSOLVE_PACK_BINARY(-)
ENSOLVE_PACK_BINARY(*)
ENSOLVE_PACK_BINARY(/)
#undef ENSOLVE_PACK_BINARY

#define ENSOLVE_PACK_COMPARE(OP)                                         \
  template <class T, int W>                                              \
  inline Mask<W> operator OP(const Pack<T, W>& a, const Pack<T, W>& b) { \
    Mask<W> r;                                                           \
    ENSOLVE_LANES r.v[l] = a.v[l] OP b.v[l];                             \
    return r;                                                            \
  }                                                                      \
  template <class T, int W>                                              \
  inline Mask<W> operator OP(const Pack<T, W>& a, T b) {                 \
    Mask<W> r;                                                           \
    ENSOLVE_LANES r.v[l] = a.v[l] OP b;                                  \
    return r;                                                            \
  }
ENSOLVE_PACK_COMPARE(<)
ENSOLVE_PACK_COMPARE(<=)
ENSOLVE_PACK_COMPARE(>)
ENSOLVE_PACK_COMPARE(>=)
#undef ENSOLVE_PACK_COMPARE

template <class T, int W>
inline Pack<T, W> operator-(const Pack<T, W>& a) {
  Pack<T, W> r;
  ENSOLVE_LANES r.v[l] = -a.v[l];
  return r;
}

template <class T, int W>
inline Pack<T, W> Select(const Mask<W>& m, const Pack<T, W>& a, const Pack<T, W>& b) {
  Pack<T, W> r;
  ENSOLVE_LANES r.v[l] = m.v[l] ? a.v[l] : b.v[l];
  return r;
}
template <class T, int W>
inline Pack<T, W> Abs(const Pack<T, W>& a) {
  Pack<T, W> r;
  ENSOLVE_LANES r.v[l] = std::fabs(a.v[l]);
  return r;
}
template <class T, int W>
inline Pack<T, W> Sqrt(const Pack<T, W>& a) {
  Pack<T, W> r;
  ENSOLVE_LANES r.v[l] = std::sqrt(a.v[l]);
  return r;
}
template <class T, int W>
inline Pack<T, W> Pow(const Pack<T, W>& a, T b) {
  Pack<T, W> r;
  ENSOLVE_LANES r.v[l] = std::pow(a.v[l], b);
  return r;
}
// float32 log and exp per lane, whatever T (see LowLog in engine/algorithms/hd.h).
template <class T, int W>
inline Pack<T, W> LowLog(const Pack<T, W>& a) {
  Pack<T, W> r;
  ENSOLVE_LANES r.v[l] = std::log(static_cast<float>(a.v[l]));
  return r;
}
template <class T, int W>
inline Pack<T, W> LowExp(const Pack<T, W>& a) {
  Pack<T, W> r;
  ENSOLVE_LANES r.v[l] = std::exp(static_cast<float>(a.v[l]));
  return r;
}
template <class T, int W>
inline Pack<T, W> Min(const Pack<T, W>& a, const Pack<T, W>& b) {
  Pack<T, W> r;
  ENSOLVE_LANES r.v[l] = a.v[l] < b.v[l] ? a.v[l] : b.v[l];
  return r;
}
template <class T, int W>
inline Pack<T, W> Max(const Pack<T, W>& a, const Pack<T, W>& b) {
  Pack<T, W> r;
  ENSOLVE_LANES r.v[l] = a.v[l] > b.v[l] ? a.v[l] : b.v[l];
  return r;
}
template <class T, int W>
inline Mask<W> IsFinite(const Pack<T, W>& a) {
  Mask<W> r;
  // x - x is 0 for finite x and NaN for NaN or infinity; cheaper than std::isfinite per lane.
  ENSOLVE_LANES r.v[l] = (a.v[l] - a.v[l]) == T(0);
  return r;
}

#undef ENSOLVE_LANES

}  // namespace ensolve::cpu

#endif  // ENSOLVE_ENGINE_CPU_PACK_H_
