// SolveRequest.reductions validated into what the engine reduces and what the stream sends.
#ifndef ENSOLVE_SERVER_REDUCTION_REQUEST_H_
#define ENSOLVE_SERVER_REDUCTION_REQUEST_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/reduction.h"
#include "ensolve/v1/solver.pb.h"

namespace ensolve::server {

struct ReductionRequest {
  ReductionSpec spec;                     // cells, edges, keep_states
  std::vector<v1::Statistic> statistics;  // as requested, in order
  double partial_seconds = 0;             // 0: only the final statistics
  bool wants(v1::Statistic s) const;
};

// Validates request.reductions for a job of `num_save` save points of the quantities
// `quantities`; `*out` receives the result. INVALID_ARGUMENT naming the field
// ("reductions.histogram_edges: ...") for a bad or too large request.
absl::Status DecodeReductions(const v1::SolveRequest& request, int num_save,
                              const std::vector<std::string>& quantities, ReductionRequest* out);

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_REDUCTION_REQUEST_H_
