// Parsing of the ensolve CLI's inputs: sampler specs, save-time specs, and input tables
// from .npy or CSV files.
#ifndef ENSOLVE_CLIENT_CLI_INPUTS_H_
#define ENSOLVE_CLIENT_CLI_INPUTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ensolve/v1/solver.pb.h"

namespace ensolve {

// "KIND:key=value:key=value..." with KIND uniform (keys seed, lo, hi), normal (seed, mean,
// sd) or grid (lo, hi, n). Lists are comma-separated:
//   uniform:seed=1:lo=0,0,0:hi=10,28,2.67
//   normal:seed=7:mean=1,0,0:sd=0.1,0,0
//   grid:lo=0,0:hi=1,1:n=11,11
// With the model's names (`columns`), dimensions may instead be named, and the others keep
// their defaults (uniform lo = hi = default, normal sd = 0, grid one point):
//   grid:rho=0,21,100          (lo,hi,points)
//   uniform:seed=1:rho=0,28    (lo,hi)
//   normal:seed=2:rho=28,0.5   (mean,sd)
// INVALID_ARGUMENT names the bad part.
struct Columns {
  std::string what;  // "parameter" or "state"
  std::vector<std::string> names;
  std::vector<double> defaults;
};
absl::StatusOr<v1::Sampler> ParseSamplerSpec(absl::string_view spec,
                                             const Columns* columns = nullptr);

// "start:step:stop" (a range, MATLAB/Julia order) or "t1,t2,..." (explicit times); empty
// gives an empty SaveAt (final state only).
absl::StatusOr<v1::SaveAt> ParseSaveAt(absl::string_view spec);

// A table of numbers as a float64 tensor of shape [cols] (1-D) or [rows, cols], from
// - a .npy file (1-D or 2-D, any numeric dtype, C or Fortran order, either byte order);
// - a .npz archive: "file.npz:key" for member `key`; plain "file.npz" takes the member
//   named `default_key` if there is one (ensolve's own .npz outputs hold "p" and "u0"),
//   else the only member;
// - a CSV file (one row per line; '#' comments and blank lines skipped). A first line
//   that is not numbers is a header: with `columns`, its names must be exactly the
//   model's (in any order; the columns are reordered to the model's order), and a
//   missing, unknown or repeated name is INVALID_ARGUMENT naming it.
absl::StatusOr<v1::Tensor> ReadTable(const std::string& path, const Columns* columns = nullptr,
                                     const std::string& default_key = "");

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_CLI_INPUTS_H_
