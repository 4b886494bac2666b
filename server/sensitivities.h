// SolveRequest.sensitivities: validated into the JobSpec's sensitivity model and options
// (docs/sensitivities.md), and split back out of each batch result for the wire.
#ifndef ENSOLVE_SERVER_SENSITIVITIES_H_
#define ENSOLVE_SERVER_SENSITIVITIES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/batch.h"
#include "server/job.h"
#include "server/model_cache.h"

namespace ensolve::server {

// Sets spec->sensitivities, sensitivity_model (from `models`' cache) and
// sensitivity_options for the parameter names `names`; nothing for an empty list. Needs
// spec->model and spec->options (with outputs) set and validated. INVALID_ARGUMENT naming
// the field: "sensitivities[k]: ..." for an unknown (with did-you-mean) or repeated name,
// "sensitivities: ..." for a stochastic model or algorithm, or an augmented system of
// states x (1 + parameters) over max_model_states (or the model's node limit).
absl::Status AddSensitivities(const std::vector<std::string>& names, ModelCache& models,
                              JobSpec* spec);

// Rows [first, first + rows) of a batch result of `spec` (values_per_save() per save point)
// split into the quantities [rows, save points, q] and their sensitivities
// [rows, save points, q, m], as little-endian bytes of the result's precision.
void SplitSensitivities(const JobSpec& spec, const BatchResult& r, int64_t first, int64_t rows,
                        std::string* states, std::string* sensitivities);

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_SENSITIVITIES_H_
