#include "engine/batch_reduction.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ensolve {

absl::Status ReduceBatchOnHost(const ReductionSpec& spec, BatchResult* r, cpu::ThreadPool* pool) {
  if (spec.num_save != r->num_save || spec.width != r->num_states ||
      r->retcodes.size() != static_cast<size_t>(r->count)) {
    return absl::InvalidArgumentError(absl::StrCat("reduction: shape [", spec.num_save, ", ",
                                                   spec.width, "] does not fit the batch's [",
                                                   r->num_save, ", ", r->num_states, "]"));
  }
  Reduction red;
  red.Reset(spec);
  const auto* codes = reinterpret_cast<const uint8_t*>(r->retcodes.data());
  CountRetCodes(codes, r->count, &red);
  const int parts = std::max(1, std::min(pool != nullptr ? pool->size() : 1, spec.num_save));
  auto part = [&](int i) {
    if (i >= parts) return;
    const int lo = static_cast<int>(int64_t{spec.num_save} * i / parts);
    const int hi = static_cast<int>(int64_t{spec.num_save} * (i + 1) / parts);
    if (r->precision == Precision::kFloat32) {
      ReduceStates(spec, r->states_f32.data(), codes, r->count, lo, hi, &red);
    } else {
      ReduceStates(spec, r->states_f64.data(), codes, r->count, lo, hi, &red);
    }
  };
  if (parts > 1) {
    pool->Run(part);
  } else {
    part(0);
  }
  r->reduction = std::move(red);
  if (!spec.keep_states) DropPerTrajectoryArrays(r);
  return absl::OkStatus();
}

void DropPerTrajectoryArrays(BatchResult* r) {
  r->states_f32 = HostArray<float>();
  r->states_f64 = HostArray<double>();
  r->retcodes = HostArray<RetCode>();
  r->t_final = HostArray<double>();
  r->stats = HostArray<TrajectoryStats>();
  r->events_fired = HostArray<int32_t>();
}

}  // namespace ensolve
