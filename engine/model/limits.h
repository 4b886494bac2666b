// Bounds on model text, checked while parsing so a hostile input is rejected cheaply.
#ifndef ENSOLVE_ENGINE_MODEL_LIMITS_H_
#define ENSOLVE_ENGINE_MODEL_LIMITS_H_

#include <cstdint>

namespace ensolve {

struct ModelLimits {
  int64_t max_source_bytes = 256 * 1024;
  int max_states = 256;
  int max_params = 1024;
  int max_outputs = 256;
  // Wiener processes of an SDE model (declared ones and one per diagonal noise line).
  int max_wieners = 256;
  // Events (`when` and `at` statements), and the times of all `at` statements together.
  int max_events = 64;
  int max_event_times = 1024;
  // IR nodes, counted after CSE, including the derivative nodes.
  int max_nodes = 200000;
  // Parenthesis / call / operator nesting.
  int max_depth = 128;
  // Bytes of one name or number token. Names are echoed in errors and compared for "did
  // you mean" suggestions; a 130,000-character name once took 31 s there.
  int max_identifier_length = 128;
  // Wall time the derivatives and the tape check may take (0: no limit): checked after
  // parsing and between Jacobian columns, so it is passed by at most about one column's
  // work. Past it, Model::Parse is RESOURCE_EXHAUSTED (it depends on the machine's load,
  // not only on the text).
  double max_compile_seconds = 0;
};

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_MODEL_LIMITS_H_
