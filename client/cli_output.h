// Output of the ensolve CLI: result files (.npz, .npy or CSV, or CSV on stdout) and the
// printed summary.
#ifndef ENSOLVE_CLIENT_CLI_OUTPUT_H_
#define ENSOLVE_CLIENT_CLI_OUTPUT_H_

#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "client/client.h"

namespace ensolve {

// What a result file holds besides the states.
struct ResultContext {
  const v1::SolveRequest* request = nullptr;  // its tensors of inputs are the inputs used
  std::vector<std::string> param_names;
};

// Checks, before anything is solved, that `path` can be written: "-" (CSV on stdout), or a
// .npz, .npy or .csv name in an existing, writable folder that is not itself a folder or
// a read-only file. INVALID_ARGUMENT says what is wrong.
absl::Status CheckOutputPath(const std::string& path);

// Writes the result to `path` (see CheckOutputPath):
// - .npz: u (states [trajectories, save points, states], the computed dtype), t (save
//   times), retcode (uint8), accepted_steps, rejected_steps, rhs_evals (int32), t_final
//   (float64: the time each trajectory reached), p and u0 (the inputs each trajectory used,
//   [trajectories, n], when the result has them (SolveRequest.return_inputs), else the
//   tables sent), state_names (what each save point holds) and param_names (strings);
// - .npy: the states alone;
// - .csv or "-": rows "trajectory,t,<state names...>,retcode,t_final,accepted_steps,
//   rejected_steps,rhs_evals" (%.17g, exact), one per trajectory and save point.
absl::Status WriteResult(const std::string& path, const SolveResult& result,
                         const ResultContext& context);

// A human-readable summary: shape, timings, return codes, and statistics of the final
// states over the successful trajectories only, saying how many failed.
void PrintSummary(const SolveResult& result, double client_seconds, std::FILE* out);

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_CLI_OUTPUT_H_
