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
    case RetCode::kSingular:
      return "singular";
  }
  return "?";
}

void BatchResult::Resize(int64_t n, int saves, int states, Precision p) {
  count = n;
  num_save = saves;
  num_states = states;
  precision = p;
  const size_t total = static_cast<size_t>(n) * saves * states;
  states_f32 = HostArray<float>(p == Precision::kFloat32 ? total : 0);
  states_f64 = HostArray<double>(p == Precision::kFloat64 ? total : 0);
  retcodes = HostArray<RetCode>(static_cast<size_t>(n));
  t_final = HostArray<double>(static_cast<size_t>(n));
  stats = HostArray<TrajectoryStats>(static_cast<size_t>(n));
  events_fired = HostArray<int32_t>(static_cast<size_t>(n));
  events_fired.Fill(0);
}

void ResumeState::Reset(int64_t count, int slots, int values) {
  values_per_trajectory = values;
  capacity = slots;
  from = 0;
  status = HostArray<uint8_t>(static_cast<size_t>(count));
  status.Fill(kNotStarted);
  slot = HostArray<int32_t>(static_cast<size_t>(count));
  for (int k = 0; k < 2; ++k) {
    scalars[k] = HostArray<double>(static_cast<size_t>(slots) * 4);
    counters[k] = HostArray<int32_t>(static_cast<size_t>(slots) * kCounters);
    this->values[k] = HostArray<double>(static_cast<size_t>(slots) * values);
  }
}

int64_t ResumeState::Unfinished() const {
  int64_t n = 0;
  for (size_t i = 0; i < status.size(); ++i) n += status[i] != kFinished;
  return n;
}

}  // namespace ensolve
