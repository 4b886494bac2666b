#include "engine/sampler.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ensolve {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Mixes a counter into a key: the key is already a splitmix64 output, so XOR then mix keeps
// streams for different counters independent.
inline uint64_t Mix(uint64_t key, uint64_t counter) {
  return SplitMix64(key ^ SplitMix64(counter));
}

// 53 random bits as a double in [0, 1).
inline double UnitOpen1(uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }
// 53 random bits as a double in (0, 1].
inline double UnitOpen0(uint64_t h) { return static_cast<double>((h >> 11) + 1) * 0x1.0p-53; }

// The values, one formula each, shared by Value() and Fill() (and mirrored operation for
// operation by the CUDA backend's device sampler for uniform and grid).
inline double UniformValue(double lo, double hi, uint64_t h) {
  return lo + (hi - lo) * UnitOpen1(h);
}
// Box-Muller on two independent streams of the same (i, d); `row` is Mix(key, i).
inline double NormalValue(double mean, double stddev, uint64_t row, int d) {
  const double u1 = UnitOpen0(Mix(row, 2 * static_cast<uint64_t>(d)));
  const double u2 = UnitOpen1(Mix(row, 2 * static_cast<uint64_t>(d) + 1));
  return mean + stddev * (std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2));
}
// Point k of n evenly spaced over [lo, hi], the ends exact.
inline double GridValue(double lo, double hi, int64_t k, int64_t n) {
  if (n == 1) return lo;
  if (k == n - 1) return hi;
  return lo + (hi - lo) * (static_cast<double>(k) / static_cast<double>(n - 1));
}

absl::Status CheckValues(const std::vector<double>& v, int dims, const char* prefix,
                         const char* name) {
  if (static_cast<int>(v.size()) != dims) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, ".", name, ": has ", v.size(), " values, expected ", dims));
  }
  for (size_t d = 0; d < v.size(); ++d) {
    if (!std::isfinite(v[d])) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, ".", name, "[", d, "]: must be finite, got ", v[d]));
    }
  }
  return absl::OkStatus();
}

}  // namespace

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t CounterHash(uint64_t seed, uint64_t i, uint64_t d) {
  return Mix(Mix(SplitMix64(seed), i), d);
}

absl::StatusOr<Sampler> Sampler::Create(SamplerSpec spec, int dims, const char* prefix) {
  const bool grid = spec.kind == SamplerKind::kGrid;
  const bool normal = spec.kind == SamplerKind::kNormal;
  const char* a_name = normal ? "mean" : "lo";
  const char* b_name = normal ? "stddev" : "hi";
  if (absl::Status s = CheckValues(spec.a, dims, prefix, a_name); !s.ok()) return s;
  if (absl::Status s = CheckValues(spec.b, dims, prefix, b_name); !s.ok()) return s;
  for (int d = 0; d < dims; ++d) {
    if (normal && spec.b[d] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, ".stddev[", d, "]: must be >= 0, got ", spec.b[d]));
    }
    if (!normal && spec.b[d] < spec.a[d]) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, ".hi[", d, "]: ", spec.b[d], " is below lo[", d, "] = ", spec.a[d]));
    }
  }
  int64_t size = std::numeric_limits<int64_t>::max();
  if (grid) {
    if (static_cast<int>(spec.points.size()) != dims) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, ".points: has ", spec.points.size(), " values, expected ", dims));
    }
    size = 1;
    for (int d = 0; d < dims; ++d) {
      if (spec.points[d] < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(prefix, ".points[", d, "]: must be >= 1, got ", spec.points[d]));
      }
      if (size > std::numeric_limits<int64_t>::max() / spec.points[d]) {
        size = std::numeric_limits<int64_t>::max();
      } else if (size != std::numeric_limits<int64_t>::max()) {
        size *= spec.points[d];
      }
    }
  } else if (!spec.points.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, ".points: only a grid sampler takes points"));
  }
  Sampler s;
  s.dims_ = dims;
  s.size_ = size;
  s.key_ = SplitMix64(spec.seed);
  s.spec_ = std::move(spec);
  return s;
}

double Sampler::Value(int64_t i, int d) const {
  const double a = spec_.a[d], b = spec_.b[d];
  switch (spec_.kind) {
    case SamplerKind::kUniform:
      return UniformValue(a, b, Mix(Mix(key_, static_cast<uint64_t>(i)), static_cast<uint64_t>(d)));
    case SamplerKind::kNormal:
      return NormalValue(a, b, Mix(key_, static_cast<uint64_t>(i)), d);
    case SamplerKind::kGrid: {
      // Mixed-radix digits of i (mod size), last dimension fastest.
      int64_t rest = i % size_;
      for (int e = dims_ - 1; e > d; --e) rest /= spec_.points[e];
      const int64_t n = spec_.points[d];
      return GridValue(a, b, rest % n, n);
    }
  }
  return 0.0;
}

// Value() row by row, with the per-row work done once: the row's hash for the random
// samplers, and for a grid the digits of `first` once, then counted up like an odometer
// (each digit wrapping at its number of points is exactly Value()'s i mod size).
void Sampler::Fill(int64_t first, int64_t count, double* out) const {
  if (count <= 0) return;
  const int dims = dims_;
  const double* a = spec_.a.data();
  const double* b = spec_.b.data();
  switch (spec_.kind) {
    case SamplerKind::kUniform:
      for (int64_t k = 0; k < count; ++k) {
        const uint64_t row = Mix(key_, static_cast<uint64_t>(first + k));
        double* o = out + k * dims;
        for (int d = 0; d < dims; ++d) {
          o[d] = UniformValue(a[d], b[d], Mix(row, static_cast<uint64_t>(d)));
        }
      }
      return;
    case SamplerKind::kNormal:
      for (int64_t k = 0; k < count; ++k) {
        const uint64_t row = Mix(key_, static_cast<uint64_t>(first + k));
        double* o = out + k * dims;
        for (int d = 0; d < dims; ++d) o[d] = NormalValue(a[d], b[d], row, d);
      }
      return;
    case SamplerKind::kGrid: {
      const int64_t* points = spec_.points.data();
      std::vector<int64_t> digit(static_cast<size_t>(dims));
      std::vector<double> value(static_cast<size_t>(dims));
      int64_t rest = first % size_;
      for (int d = dims - 1; d >= 0; --d) {
        digit[d] = rest % points[d];
        rest /= points[d];
        value[d] = GridValue(a[d], b[d], digit[d], points[d]);
      }
      for (int64_t k = 0; k < count; ++k) {
        double* o = out + k * dims;
        for (int d = 0; d < dims; ++d) o[d] = value[d];
        for (int d = dims - 1; d >= 0; --d) {
          if (++digit[d] == points[d]) digit[d] = 0;
          value[d] = GridValue(a[d], b[d], digit[d], points[d]);
          if (digit[d] != 0) break;  // no carry into the next dimension
        }
      }
      return;
    }
  }
}

}  // namespace ensolve
