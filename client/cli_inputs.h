// Parsing of the ensolve CLI's inputs: sampler specs, save-time specs, and input tables
// from .npy or CSV files.
#ifndef ENSOLVE_CLIENT_CLI_INPUTS_H_
#define ENSOLVE_CLIENT_CLI_INPUTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ensolve/v1/solver.pb.h"

namespace ensolve {

// "KIND:key=value:key=value..." with KIND uniform (keys seed, lo, hi), normal (seed, mean,
// sd) or grid (lo, hi, n). Lists are comma-separated:
//   uniform:seed=1:lo=0,0,0:hi=10,28,2.67
//   normal:seed=7:mean=1,0,0:sd=0.1,0,0
//   grid:lo=0,0:hi=1,1:n=11,11
// INVALID_ARGUMENT names the bad part.
absl::StatusOr<v1::Sampler> ParseSamplerSpec(absl::string_view spec);

// "start:step:stop" (a range, MATLAB/Julia order) or "t1,t2,..." (explicit times); empty
// gives an empty SaveAt (final state only).
absl::StatusOr<v1::SaveAt> ParseSaveAt(absl::string_view spec);

// A table of numbers from a .npy file (1-D or 2-D, any numeric dtype) or a CSV file (one
// row per line; '#' comments, blank lines and one non-numeric header line are skipped),
// as a float64 tensor of shape [cols] (1-D) or [rows, cols].
absl::StatusOr<v1::Tensor> ReadTable(const std::string& path);

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_CLI_INPUTS_H_
