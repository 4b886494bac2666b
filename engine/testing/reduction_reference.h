// Tests of reductions: the statistics of an ensemble computed the plain way (two passes, in
// long double, from every state), and a check of a Reduction against them.
#ifndef ENSOLVE_ENGINE_TESTING_REDUCTION_REFERENCE_H_
#define ENSOLVE_ENGINE_TESTING_REDUCTION_REFERENCE_H_

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/reduction.h"
#include "gtest/gtest.h"

namespace ensolve::testing {

struct ReferenceStats {
  int64_t trajectories = 0;
  int64_t retcodes[kReductionRetCodes] = {};
  std::vector<int64_t> count, nonfinite, histogram;
  std::vector<double> mean, variance, min, max;  // NaN where undefined
};

// value(k, cell): trajectory k's value in cell (save * width + quantity); retcode(k) its
// return code.
inline ReferenceStats ReferenceReduction(const ReductionSpec& spec, int64_t count,
                                         const std::function<int(int64_t)>& retcode,
                                         const std::function<double(int64_t, int64_t)>& value) {
  const int64_t cells = spec.cells();
  const int slots = spec.slots();
  ReferenceStats r;
  r.trajectories = count;
  r.count.assign(cells, 0);
  r.nonfinite.assign(cells, 0);
  r.histogram.assign(cells * slots, 0);
  r.mean.assign(cells, NAN);
  r.variance.assign(cells, NAN);
  r.min.assign(cells, NAN);
  r.max.assign(cells, NAN);
  std::vector<long double> sum(cells, 0), sq(cells, 0);
  for (int64_t k = 0; k < count; ++k) ++r.retcodes[retcode(k)];
  for (int pass = 0; pass < 2; ++pass) {
    for (int64_t k = 0; k < count; ++k) {
      if (retcode(k) != 0) continue;
      for (int64_t c = 0; c < cells; ++c) {
        const double x = value(k, c);
        if (!std::isfinite(x)) {
          if (pass == 0) ++r.nonfinite[c];
          continue;
        }
        if (pass == 0) {
          ++r.count[c];
          sum[c] += x;
          r.min[c] = r.count[c] == 1 ? x : std::fmin(r.min[c], x);
          r.max[c] = r.count[c] == 1 ? x : std::fmax(r.max[c], x);
          if (slots > 0) {
            // The bin by a linear scan, independent of the binary search under test.
            const double* e = spec.edges_of(static_cast<int>(c % spec.width));
            int slot = 0;
            if (x > e[spec.bins]) {
              slot = spec.bins + 1;
            } else if (x >= e[0]) {
              slot = spec.bins;
              for (int j = 0; j < spec.bins; ++j) {
                if (x < e[j + 1]) {
                  slot = j + 1;
                  break;
                }
              }
            }
            ++r.histogram[c * slots + slot];
          }
        } else {
          const long double d = x - sum[c] / r.count[c];
          sq[c] += d * d;
        }
      }
    }
  }
  for (int64_t c = 0; c < cells; ++c) {
    if (r.count[c] > 0) r.mean[c] = static_cast<double>(sum[c] / r.count[c]);
    if (r.count[c] > 1) r.variance[c] = static_cast<double>(sq[c] / (r.count[c] - 1));
  }
  return r;
}

// Counts and histograms exactly; mean to rtol of (|mean| + sd), variance to rtol relative
// (plus (1e-15 mean)^2), min and max exactly.
inline void ExpectReductionMatches(const Reduction& got, const ReferenceStats& ref, double rtol,
                                   const std::string& what) {
  ASSERT_EQ(got.trajectories, ref.trajectories) << what;
  for (int i = 0; i < kReductionRetCodes; ++i) EXPECT_EQ(got.retcodes[i], ref.retcodes[i]) << what;
  ASSERT_EQ(got.moments.size(), ref.count.size()) << what;
  EXPECT_EQ(got.histogram, ref.histogram) << what;
  EXPECT_EQ(got.nonfinite, ref.nonfinite) << what;
  int bad = 0;
  for (size_t c = 0; c < ref.count.size() && bad < 10; ++c) {
    const reduce::Moments& m = got.moments[c];
    const std::string at = absl::StrCat(what, ", cell ", c);
    EXPECT_EQ(m.n, ref.count[c]) << at;
    if (ref.count[c] == 0) continue;
    const double sd = ref.count[c] > 1 ? std::sqrt(ref.variance[c]) : 0.0;
    const bool ok_mean =
        std::abs(reduce::MeanOf(m) - ref.mean[c]) <= rtol * (std::abs(ref.mean[c]) + sd);
    const double var = got.variance(static_cast<int64_t>(c));
    // Relative, with room for rounding in a mean-sized quantity (a constant cell's
    // variance is 0 here and a few ulps of mean^2 in the reference).
    const double floor = 1e-15 * ref.mean[c] * 1e-15 * ref.mean[c];
    const bool ok_var = ref.count[c] < 2
                            ? std::isnan(var)
                            : std::abs(var - ref.variance[c]) <= rtol * ref.variance[c] + floor;
    EXPECT_TRUE(ok_mean) << at << ": mean " << reduce::MeanOf(m) << " vs " << ref.mean[c];
    EXPECT_TRUE(ok_var) << at << ": variance " << var << " vs " << ref.variance[c];
    EXPECT_EQ(m.min, ref.min[c]) << at;
    EXPECT_EQ(m.max, ref.max[c]) << at;
    bad += !ok_mean || !ok_var;
  }
}

}  // namespace ensolve::testing

#endif  // ENSOLVE_ENGINE_TESTING_REDUCTION_REFERENCE_H_
