// Server-side samplers: values for the inputs (initial states or parameters) of many
// trajectories, drawn without a stored sequence.
//
// Contract: the value for trajectory i in dimension d is a pure function of
// (spec, i, d). It is computed through a counter-based hash (splitmix64 applied to
// (seed, i, d)), so it does not depend on which batch, thread or device asks for it, nor in
// what order: splitting an ensemble into batches of any size gives the same inputs.
// Values are computed on the host in IEEE double arithmetic; the normal sampler also uses
// std::log/std::cos/std::sqrt, so it is bitwise reproducible on any host with the same libm
// (a device port must use the same formulas).
//
// Thread-safety: a Sampler is immutable; share it freely.
#ifndef ENSOLVE_ENGINE_SAMPLER_H_
#define ENSOLVE_ENGINE_SAMPLER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace ensolve {

enum class SamplerKind : uint8_t {
  kUniform,  // independent uniform draws in [lo, hi) per dimension
  kNormal,   // independent normal draws N(mean, stddev^2) per dimension
  kGrid,     // Cartesian product of evenly spaced points; last dimension fastest
};

struct SamplerSpec {
  SamplerKind kind = SamplerKind::kUniform;
  uint64_t seed = 0;            // unused by kGrid
  std::vector<double> a;        // kUniform: lo; kNormal: mean; kGrid: lo
  std::vector<double> b;        // kUniform: hi; kNormal: stddev; kGrid: hi
  std::vector<int64_t> points;  // kGrid only: points per dimension (>= 1)
};

class Sampler {
 public:
  // Checks `spec` for `dims` dimensions: a, b (and points for a grid) must hold `dims`
  // finite values each, lo <= hi, stddev >= 0, points >= 1. INVALID_ARGUMENT names the
  // field with `field_prefix` prepended ("params.sampler.uniform.hi: ...").
  static absl::StatusOr<Sampler> Create(SamplerSpec spec, int dims,
                                        const char* field_prefix = "sampler");

  int dims() const { return dims_; }
  const SamplerSpec& spec() const { return spec_; }
  // Number of distinct points: the grid's size (saturating at INT64_MAX), else INT64_MAX.
  int64_t size() const { return size_; }

  // The value of trajectory `i` (>= 0) in dimension `d` (0 <= d < dims()). A grid wraps
  // around after size() points.
  double Value(int64_t i, int d) const;

  // Fills out[k * dims() + d] = Value(first + k, d) for 0 <= k < count.
  void Fill(int64_t first, int64_t count, double* out) const;

 private:
  Sampler() = default;
  SamplerSpec spec_;
  int dims_ = 0;
  int64_t size_ = 0;
  uint64_t key_ = 0;  // splitmix64(seed), precomputed
};

// splitmix64's finalizer: a bijective 64-bit mix. Exposed for tests.
uint64_t SplitMix64(uint64_t x);
// The counter-based hash behind the samplers: independent streams per (seed, i, d).
uint64_t CounterHash(uint64_t seed, uint64_t i, uint64_t d);

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_SAMPLER_H_
