// Statistics across trajectories, one cell (save point x quantity) at a time: the pieces the
// host and the device share (the CPU backend compiles this header ahead of time, the CUDA
// backend hands its text to NVRTC, engine/cuda/device/reduce_kernel.cuh).
//
// Moments are accumulated by Welford's update (B. P. Welford, "Note on a method for
// calculating corrected sums of squares and products", Technometrics 4(3), 1962) and two
// partial results are combined by the pairwise update of T. F. Chan, G. H. Golub and
// R. J. LeVeque ("Updating formulae and a pairwise algorithm for computing sample
// variances", Stanford CS report STAN-CS-79-773, 1979; "Algorithms for computing the sample
// variance: analysis and recommendations", The American Statistician 37(3), 1983, eq. 1.5b):
//   n = na + nb,  d = mean_b - mean_a,
//   mean = mean_a + d * nb / n,  M2 = M2a + M2b + d^2 * na * nb / n.
// Everything is float64 whatever the solve's precision.
#ifndef ENSOLVE_ENGINE_REDUCTION_MATH_H_
#define ENSOLVE_ENGINE_REDUCTION_MATH_H_

#include "engine/algorithms/hd.h"

namespace ensolve::reduce {

// The values of one cell seen so far: their count, and their mean and sum of squared
// deviations from the mean (M2) kept relative to a shift (the cell's first value), so that
// a cell whose spread is small against its magnitude keeps its digits: the update then
// works on x - shift, of the size of the spread (the shifted data of Chan, Golub & LeVeque
// 1983, section 3). min and max are plain. Everything is meaningless while n == 0. The
// layout is the device's output layout too (48 bytes).
struct Moments {
  long long n;
  double shift;
  double mean;  // of x - shift
  double m2;
  double min;
  double max;
};

ENSOLVE_HD Moments EmptyMoments() {
  Moments m;
  m.n = 0;
  m.shift = 0;
  m.mean = 0;
  m.m2 = 0;
  m.min = 0;
  m.max = 0;
  return m;
}

// The mean of the values.
ENSOLVE_HD double MeanOf(const Moments& m) { return m.shift + m.mean; }

// Welford: one more (finite) value.
ENSOLVE_HD void AddValue(Moments& m, double x) {
  if (m.n == 0) {
    m.shift = x;
    m.min = x;
    m.max = x;
  } else {
    m.min = x < m.min ? x : m.min;
    m.max = x > m.max ? x : m.max;
  }
  m.n += 1;
  const double y = x - m.shift;
  const double d = y - m.mean;
  m.mean += d / static_cast<double>(m.n);
  m.m2 += d * (y - m.mean);
}

// Chan, Golub & LeVeque's pairwise update: a becomes the moments of a's and b's values
// (in a's shift; the difference of the means is formed from the shifts' difference, exact
// when they are within a factor of two, and the shifted means' difference).
ENSOLVE_HD void MergeMoments(Moments& a, const Moments& b) {
  if (b.n == 0) return;
  if (a.n == 0) {
    a = b;
    return;
  }
  const double na = static_cast<double>(a.n), nb = static_cast<double>(b.n);
  const double n = na + nb;
  const double d = (b.shift - a.shift) + (b.mean - a.mean);
  a.mean += d * (nb / n);
  a.m2 += b.m2 + d * d * (na / n) * nb;
  a.min = b.min < a.min ? b.min : a.min;
  a.max = b.max > a.max ? b.max : a.max;
  a.n += b.n;
}

// The histogram slot of a finite x for `bins` bins with strictly increasing edges[0..bins]:
// 0 below edges[0] (underflow), 1 + j for bin j = [edges[j], edges[j+1]) (the last bin also
// holds x == edges[bins], as numpy.histogram), bins + 1 above edges[bins] (overflow).
ENSOLVE_HD int HistogramSlot(const double* edges, int bins, double x) {
  if (x < edges[0]) return 0;
  if (x > edges[bins]) return bins + 1;
  if (x == edges[bins]) return bins;
  int lo = 0, hi = bins;  // edges[lo] <= x < edges[hi]
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x < edges[mid]) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return lo + 1;
}

}  // namespace ensolve::reduce

#endif  // ENSOLVE_ENGINE_REDUCTION_MATH_H_
