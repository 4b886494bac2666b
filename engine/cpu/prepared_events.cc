#include "engine/cpu/prepared_events.h"

#include <algorithm>

namespace ensolve::cpu {

absl::Status PreparedEvents::Build(const Model& model) {
  const int ne = model.num_events();
  if (ne == 0) return absl::OkStatus();
  const int n = model.num_states(), np = model.num_params();
  absl::StatusOr<ir::Tape> cond = ir::TryCompileTape(model.graph(), model.EventConditions(), n, np);
  if (!cond.ok()) return cond.status();
  conditions_ = *std::move(cond);
  values_.reserve(ne);
  targets_.resize(ne);
  times_.resize(ne);
  for (int e = 0; e < ne; ++e) {
    const ModelEvent& ev = model.events()[e];
    absl::StatusOr<ir::Tape> t = ir::TryCompileTape(model.graph(), model.EventValues(e), n, np);
    if (!t.ok()) return t.status();
    values_.push_back(*std::move(t));
    for (const ModelEvent::Assignment& a : ev.assignments) {
      targets_[e].push_back(a.param ? -1 - a.index : a.index);
    }
    times_[e] = ev.times;
    stops_.insert(stops_.end(), ev.times.begin(), ev.times.end());
  }
  for (int e = 0; e < ne; ++e) {
    const ModelEvent& ev = model.events()[e];
    EventInfo info;
    info.times = ev.kind == ModelEvent::Kind::kTimes;
    info.direction = ev.direction;
    info.terminate = ev.terminate;
    info.at = times_[e].data();
    info.num_at = static_cast<int>(times_[e].size());
    info.targets = targets_[e].data();
    info.num_assign = static_cast<int>(targets_[e].size());
    info.values = &values_[e];
    events_.push_back(info);
  }
  std::sort(stops_.begin(), stops_.end());
  stops_.erase(std::unique(stops_.begin(), stops_.end()), stops_.end());
  params_mutable_ = model.events_assign_params();
  return absl::OkStatus();
}

EventJob PreparedEvents::Job(int32_t* fired) const {
  EventJob job;
  if (events_.empty()) return job;
  job.events = events_.data();
  job.num_events = static_cast<int>(events_.size());
  job.conditions = &*conditions_;
  job.stops = stops_.data();
  job.num_stops = static_cast<int>(stops_.size());
  job.params_mutable = params_mutable_;
  job.events_fired = fired;
  return job;
}

}  // namespace ensolve::cpu
