#include "client/statistics.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace ensolve {
namespace {

template <class T>
absl::Status Decode(const v1::Tensor& t, const char* name, v1::DType dtype,
                    std::vector<int64_t> shape, std::vector<T>* out) {
  bool same = t.shape_size() == static_cast<int>(shape.size());
  int64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    n *= shape[i];
    if (same && t.shape(static_cast<int>(i)) != shape[i]) same = false;
  }
  if (t.dtype() != dtype || !same || static_cast<int64_t>(t.data().size()) != n * 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("ReductionResult.", name, ": does not match the accepted shape"));
  }
  out->resize(static_cast<size_t>(n));
  std::memcpy(out->data(), t.data().data(), t.data().size());  // little-endian host
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EnsembleStatistics> DecodeStatistics(const v1::ReductionInfo& info,
                                                    const v1::ReductionResult& r) {
  EnsembleStatistics s;
  s.final = r.final();
  s.num_save = info.save_points();
  s.num_quantities = info.quantities_size();
  s.bins = info.bins();
  s.trajectories = r.trajectories();
  s.failed = r.failed();
  s.batches = r.batches();
  s.quantities.assign(info.quantities().begin(), info.quantities().end());
  const std::vector<int64_t> shape = {s.num_save, s.num_quantities};
  if (absl::Status st = Decode(r.count(), "count", v1::DTYPE_INT64, shape, &s.count); !st.ok()) {
    return st;
  }
  if (absl::Status st = Decode(r.nonfinite(), "nonfinite", v1::DTYPE_INT64, shape, &s.nonfinite);
      !st.ok()) {
    return st;
  }
  for (int i = 0; i < info.statistics_size(); ++i) {
    absl::Status st;
    switch (info.statistics(i)) {
      case v1::STATISTIC_MEAN:
        st = Decode(r.mean(), "mean", v1::DTYPE_FLOAT64, shape, &s.mean);
        break;
      case v1::STATISTIC_VARIANCE:
        st = Decode(r.variance(), "variance", v1::DTYPE_FLOAT64, shape, &s.variance);
        break;
      case v1::STATISTIC_MIN:
        st = Decode(r.min(), "min", v1::DTYPE_FLOAT64, shape, &s.min);
        break;
      case v1::STATISTIC_MAX:
        st = Decode(r.max(), "max", v1::DTYPE_FLOAT64, shape, &s.max);
        break;
      case v1::STATISTIC_HISTOGRAM:
        st = Decode(r.histogram(), "histogram", v1::DTYPE_INT64,
                    {s.num_save, s.num_quantities, s.bins + 2}, &s.histogram);
        break;
      default:
        break;
    }
    if (!st.ok()) return st;
  }
  return s;
}

}  // namespace ensolve
