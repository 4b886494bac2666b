// Output of the ensolve CLI: result files (.npy or CSV) and the printed summary.
#ifndef ENSOLVE_CLIENT_CLI_OUTPUT_H_
#define ENSOLVE_CLIENT_CLI_OUTPUT_H_

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "client/client.h"

namespace ensolve {

// Writes the states to `path`: ".npy" as an array [trajectories, save points, states] of
// the computed dtype; ".csv" as rows "trajectory,t,<state names...>,retcode". Any other
// extension is INVALID_ARGUMENT.
absl::Status WriteResult(const std::string& path, const SolveResult& result);

// A human-readable summary: shape, timings, return codes, statistics of the final states.
void PrintSummary(const SolveResult& result, double client_seconds, std::FILE* out);

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_CLI_OUTPUT_H_
