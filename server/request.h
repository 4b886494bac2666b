// Validation of SolveRequests: turns the wire request into a JobSpec with every default
// applied, or an error whose message starts with the offending field ("options.t1: ...",
// "params.values: ...", "model_source: line 3, column 7: ...").
//
// Codes: INVALID_ARGUMENT for malformed requests (bad model text, shapes, options);
// NOT_FOUND for an unknown model_id; RESOURCE_EXHAUSTED for requests over the server's
// size limits (trajectories, save points, output bytes).
#ifndef ENSOLVE_SERVER_REQUEST_H_
#define ENSOLVE_SERVER_REQUEST_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "ensolve/v1/solver.pb.h"
#include "server/config.h"
#include "server/job.h"
#include "server/model_cache.h"

namespace ensolve::server {

// The request's job for `tenant` (its models are looked up in that tenant's part of the
// cache); `*model_cached` (may be null) tells whether the model came from the cache.
absl::StatusOr<JobSpec> BuildJobSpec(const v1::SolveRequest& request, const ServerConfig& config,
                                     ModelCache& models, absl::string_view tenant,
                                     bool* model_cached = nullptr);

// The times of `saveat` (explicit times, or a range expanded as documented in
// solver.proto). RESOURCE_EXHAUSTED past `max_points`; INVALID_ARGUMENT for a bad range.
// Bounds against t0/t1 are left to ValidateOptions().
absl::StatusOr<std::vector<double>> SaveTimes(const v1::SaveAt& saveat, int64_t max_points);

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_REQUEST_H_
