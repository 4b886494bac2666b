#include "engine/batch.h"

namespace ensolve {

const char* RetCodeName(RetCode r) {
  switch (r) {
    case RetCode::kSuccess:
      return "success";
    case RetCode::kMaxSteps:
      return "max_steps";
    case RetCode::kDtBelowMin:
      return "dt_below_min";
    case RetCode::kUnstable:
      return "unstable";
    case RetCode::kTerminated:
      return "terminated";
  }
  return "?";
}

void BatchResult::Resize(int64_t n, int saves, int states, Precision p) {
  count = n;
  num_save = saves;
  num_states = states;
  precision = p;
  const size_t total = static_cast<size_t>(n) * saves * states;
  states_f32.assign(p == Precision::kFloat32 ? total : 0, 0.0f);
  states_f64.assign(p == Precision::kFloat64 ? total : 0, 0.0);
  retcodes.assign(n, RetCode::kSuccess);
  stats.assign(n, TrajectoryStats{});
}

}  // namespace ensolve
