// On-device reductions: statistics across the trajectories of an ensemble at every save
// point (mean, variance, min, max, histogram) of the saved quantities (the states, or the
// request's output selection), computed where a batch runs and merged across batches and
// devices. docs/api.md ("Reductions") has the semantics; engine/reduction_math.h the update
// formulas shared with the GPU.
//
// Which values enter: only trajectories whose return code is success; of those, only
// finite values (a NaN or an infinity is counted in `nonfinite` and enters no statistic).
//
// Thread-safety: plain values; ReduceStates on disjoint save ranges of one Reduction may run
// on different threads at once.
#ifndef ENSOLVE_ENGINE_REDUCTION_H_
#define ENSOLVE_ENGINE_REDUCTION_H_

#include <cstdint>
#include <vector>

#include "engine/reduction_math.h"

namespace ensolve {

// Limits of one request (the GPU keeps one cell's histogram in shared memory).
inline constexpr int kMaxReductionBins = 1024;
inline constexpr int kMaxReductionQuantities = 256;
// Return-code counters per reduction (>= kNumRetCodes of batch.h, checked there).
inline constexpr int kReductionRetCodes = 8;

// What to reduce: cells [num_save][width], and the histogram's edges.
struct ReductionSpec {
  int num_save = 0;  // save points (1 when only the final state is saved)
  int width = 0;     // quantities per save point
  int bins = 0;      // 0: no histogram
  // bins + 1 strictly increasing finite edges shared by every quantity, or width rows of
  // them (per_quantity_edges).
  std::vector<double> edges;
  bool per_quantity_edges = false;
  // Whether the per-trajectory results are still wanted; false: a backend returns the
  // reduction alone (BatchResult's per-trajectory arrays empty), and no states leave the
  // device.
  bool keep_states = true;

  int64_t cells() const { return int64_t{num_save} * width; }
  const double* edges_of(int q) const {
    return edges.data() + (per_quantity_edges ? static_cast<size_t>(q) * (bins + 1) : 0);
  }
  // Histogram slots per cell: bins plus underflow and overflow (0 without a histogram).
  int slots() const { return bins > 0 ? bins + 2 : 0; }
  // Bytes one Reduction of this spec holds.
  int64_t bytes() const;
};

// Statistics over a set of trajectories (one batch, or every batch merged so far).
struct Reduction {
  int num_save = 0, width = 0, bins = 0;
  int64_t trajectories = 0;                   // covered, failed ones included
  int64_t retcodes[kReductionRetCodes] = {};  // trajectories per return code
  std::vector<reduce::Moments> moments;       // [cells]
  std::vector<int64_t> nonfinite;             // [cells]: successful but NaN or infinite
  std::vector<int64_t> histogram;             // [cells][bins + 2]: under, bins.., over

  // Empty statistics of `spec`'s shape.
  void Reset(const ReductionSpec& spec);
  bool SameShape(const Reduction& o) const {
    return num_save == o.num_save && width == o.width && bins == o.bins;
  }
  // Adds `o`'s trajectories (Chan et al.'s update for the moments; counts add). Shapes
  // must agree.
  void Merge(const Reduction& o);
  // Trajectories left out because they did not succeed.
  int64_t failed() const { return trajectories - retcodes[0]; }
  // Unbiased sample variance M2 / (n - 1) of a cell; NaN for fewer than 2 values.
  double variance(int64_t cell) const;
};

// Adds trajectories [0, count) of a batch's row-major [trajectory][save point][quantity]
// states to the cells of save points [save_begin, save_end) of `out` (already Reset), in
// trajectory order: the result does not depend on how save ranges are split over threads.
// `retcodes` are RetCode values (0 = success). Does not touch out->trajectories/retcodes
// (CountRetCodes does).
template <class T>
void ReduceStates(const ReductionSpec& spec, const T* states, const uint8_t* retcodes,
                  int64_t count, int save_begin, int save_end, Reduction* out);

// Adds `count` trajectories with these return codes to out->trajectories and retcodes.
void CountRetCodes(const uint8_t* retcodes, int64_t count, Reduction* out);

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_REDUCTION_H_
