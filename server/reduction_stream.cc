#include "server/reduction_stream.h"

#include <limits>
#include <utility>
#include <vector>

namespace ensolve::server {
namespace {

void SetTensor(v1::Tensor* t, v1::DType dtype, std::initializer_list<int64_t> shape,
               const void* data, size_t bytes) {
  t->set_dtype(dtype);
  t->clear_shape();
  for (int64_t d : shape) t->add_shape(d);
  t->mutable_data()->assign(static_cast<const char*>(data), bytes);
}

}  // namespace

ReductionStream::ReductionStream(const ReductionRequest& request, absl::Time start)
    : request_(request), last_partial_(start) {
  merged_.Reset(request.spec);
}

int ReductionStream::Add(int64_t index, Reduction reduction) {
  waiting_.emplace(index, std::move(reduction));
  for (auto it = waiting_.find(next_); it != waiting_.end(); it = waiting_.find(next_)) {
    merged_.Merge(it->second);
    waiting_.erase(it);
    ++next_;
  }
  return Release();
}

int ReductionStream::Streamed(int64_t index) {
  streamed_.insert(index);
  return Release();
}

int ReductionStream::Release() {
  int n = 0;
  while (!streamed_.empty() && *streamed_.begin() < next_) {
    streamed_.erase(streamed_.begin());
    ++n;
  }
  return n;
}

bool ReductionStream::PartialDue(absl::Time now) const {
  return request_.partial_seconds > 0 && next_ > partial_merged_ &&
         now - last_partial_ >= absl::Seconds(request_.partial_seconds);
}

void ReductionStream::Fill(bool final, absl::Time now, v1::ReductionResult* out) {
  last_partial_ = now;
  partial_merged_ = next_;
  const Reduction& r = merged_;
  out->Clear();
  out->set_final(final);
  out->set_trajectories(r.trajectories);
  out->set_failed(r.failed());
  out->set_batches(next_);
  const int64_t ns = r.num_save, w = r.width;
  const size_t cells = r.moments.size();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  std::vector<int64_t> counts(cells);
  for (size_t c = 0; c < cells; ++c) counts[c] = r.moments[c].n;
  SetTensor(out->mutable_count(), v1::DTYPE_INT64, {ns, w}, counts.data(), cells * 8);
  SetTensor(out->mutable_nonfinite(), v1::DTYPE_INT64, {ns, w}, r.nonfinite.data(), cells * 8);
  std::vector<double> v(cells);
  // Only requested statistics are set (mutable_*() would create the others empty).
  auto put = [&](v1::Statistic s, v1::Tensor* (v1::ReductionResult::*field)(), auto value) {
    if (!request_.wants(s)) return;
    for (size_t c = 0; c < cells; ++c) v[c] = value(c);
    SetTensor((out->*field)(), v1::DTYPE_FLOAT64, {ns, w}, v.data(), cells * 8);
  };
  put(v1::STATISTIC_MEAN, &v1::ReductionResult::mutable_mean,
      [&](size_t c) { return r.moments[c].n > 0 ? reduce::MeanOf(r.moments[c]) : kNaN; });
  put(v1::STATISTIC_VARIANCE, &v1::ReductionResult::mutable_variance,
      [&](size_t c) { return r.variance(static_cast<int64_t>(c)); });
  put(v1::STATISTIC_MIN, &v1::ReductionResult::mutable_min,
      [&](size_t c) { return r.moments[c].n > 0 ? r.moments[c].min : kNaN; });
  put(v1::STATISTIC_MAX, &v1::ReductionResult::mutable_max,
      [&](size_t c) { return r.moments[c].n > 0 ? r.moments[c].max : kNaN; });
  if (request_.wants(v1::STATISTIC_HISTOGRAM)) {
    SetTensor(out->mutable_histogram(), v1::DTYPE_INT64, {ns, w, r.bins + 2}, r.histogram.data(),
              r.histogram.size() * 8);
  }
}

void ReductionStream::Describe(const std::vector<std::string>& quantities,
                               v1::ReductionInfo* info) const {
  for (v1::Statistic s : request_.statistics) info->add_statistics(s);
  for (const std::string& q : quantities) info->add_quantities(q);
  info->set_save_points(request_.spec.num_save);
  info->set_bins(request_.spec.bins);
  info->set_states_streamed(request_.spec.keep_states);
  info->set_partial_seconds(request_.partial_seconds);
}

}  // namespace ensolve::server
