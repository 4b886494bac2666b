#include "engine/reduction.h"

#include <cmath>
#include <limits>

namespace ensolve {

static_assert(sizeof(reduce::Moments) == 48, "the device writes Moments in this layout");

int64_t ReductionSpec::bytes() const {
  return cells() * (int64_t{sizeof(reduce::Moments)} + 8 + int64_t{slots()} * 8);
}

void Reduction::Reset(const ReductionSpec& spec) {
  num_save = spec.num_save;
  width = spec.width;
  bins = spec.bins;
  trajectories = 0;
  for (int64_t& r : retcodes) r = 0;
  const size_t cells = static_cast<size_t>(spec.cells());
  moments.assign(cells, reduce::EmptyMoments());
  nonfinite.assign(cells, 0);
  histogram.assign(cells * spec.slots(), 0);
}

void Reduction::Merge(const Reduction& o) {
  trajectories += o.trajectories;
  for (int i = 0; i < kReductionRetCodes; ++i) retcodes[i] += o.retcodes[i];
  for (size_t c = 0; c < moments.size(); ++c) {
    reduce::MergeMoments(moments[c], o.moments[c]);
    nonfinite[c] += o.nonfinite[c];
  }
  for (size_t j = 0; j < histogram.size(); ++j) histogram[j] += o.histogram[j];
}

double Reduction::variance(int64_t cell) const {
  const reduce::Moments& m = moments[static_cast<size_t>(cell)];
  if (m.n < 2) return std::numeric_limits<double>::quiet_NaN();
  return m.m2 / static_cast<double>(m.n - 1);
}

template <class T>
void ReduceStates(const ReductionSpec& spec, const T* states, const uint8_t* retcodes,
                  int64_t count, int save_begin, int save_end, Reduction* out) {
  const int w = spec.width, slots = spec.slots();
  const int64_t row = int64_t{spec.num_save} * w;
  const int64_t c0 = int64_t{save_begin} * w, c1 = int64_t{save_end} * w;
  for (int64_t k = 0; k < count; ++k) {
    if (retcodes[k] != 0) continue;
    const T* v = states + k * row;
    for (int64_t c = c0; c < c1; ++c) {
      const double x = static_cast<double>(v[c]);
      if (!std::isfinite(x)) {
        ++out->nonfinite[c];
        continue;
      }
      reduce::AddValue(out->moments[c], x);
      if (slots > 0) {
        const int q = static_cast<int>(c % w);
        ++out->histogram[c * slots + reduce::HistogramSlot(spec.edges_of(q), spec.bins, x)];
      }
    }
  }
}

template void ReduceStates<float>(const ReductionSpec&, const float*, const uint8_t*, int64_t, int,
                                  int, Reduction*);
template void ReduceStates<double>(const ReductionSpec&, const double*, const uint8_t*, int64_t,
                                   int, int, Reduction*);

void CountRetCodes(const uint8_t* retcodes, int64_t count, Reduction* out) {
  out->trajectories += count;
  for (int64_t k = 0; k < count; ++k) {
    const int c = retcodes[k];
    if (c < kReductionRetCodes) ++out->retcodes[c];
  }
}

}  // namespace ensolve
