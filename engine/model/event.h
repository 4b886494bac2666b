// An event of a model (docs/model-language.md, "Events"): a continuous one fires where an
// expression crosses zero (in a direction), a discrete one at given times; either assigns
// states and parameters (simultaneously: every right-hand side reads the values before the
// event) and/or ends the trajectory.
#ifndef ENSOLVE_ENGINE_MODEL_EVENT_H_
#define ENSOLVE_ENGINE_MODEL_EVENT_H_

#include <vector>

#include "engine/ir/graph.h"

namespace ensolve {

struct ModelEvent {
  enum class Kind { kCrossing, kTimes };
  struct Assignment {
    bool param = false;  // a parameter (else a state)
    int index = 0;       // the state's or parameter's number
    ir::NodeId value = ir::kNoNode;
  };
  Kind kind = Kind::kCrossing;
  // kCrossing: +1 fires only where the condition rises through 0 (up), -1 only where it
  // falls (down), 0 both.
  int direction = 0;
  // kCrossing: the expression whose zero is the event; kTimes: a constant 0 node (so every
  // event has one, and the conditions of all events are one set of roots).
  ir::NodeId condition = ir::kNoNode;
  std::vector<double> times;  // kTimes: strictly increasing, finite
  std::vector<Assignment> assignments;
  bool terminate = false;
  int line = 0, column = 0;  // where the statement starts
};

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_MODEL_EVENT_H_
