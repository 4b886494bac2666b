// A model's events compiled for the CPU backend: the conditions' tape, each event's tape of
// assigned values, and the tables the lane context reads (lane_events.h).
#ifndef ENSOLVE_ENGINE_CPU_PREPARED_EVENTS_H_
#define ENSOLVE_ENGINE_CPU_PREPARED_EVENTS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "engine/cpu/lane_events.h"
#include "engine/ir/tape.h"
#include "engine/model/model.h"

namespace ensolve::cpu {

class PreparedEvents {
 public:
  PreparedEvents() = default;
  PreparedEvents(const PreparedEvents&) = delete;  // events_ points into the vectors
  PreparedEvents& operator=(const PreparedEvents&) = delete;

  // Compiles the events of `model` (nothing for a model without). RESOURCE_EXHAUSTED if a
  // tape needs too many registers.
  absl::Status Build(const Model& model);
  // The batch's view of them, recording each trajectory's events into `fired` ([count]).
  EventJob Job(int32_t* fired) const;

 private:
  std::optional<ir::Tape> conditions_;
  std::vector<ir::Tape> values_;
  std::vector<std::vector<int>> targets_;
  std::vector<std::vector<double>> times_;
  std::vector<EventInfo> events_;
  std::vector<double> stops_;
  bool params_mutable_ = false;
};

}  // namespace ensolve::cpu

#endif  // ENSOLVE_ENGINE_CPU_PREPARED_EVENTS_H_
