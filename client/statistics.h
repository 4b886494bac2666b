// Ensemble statistics of a Solve with SolveRequest.reductions (solver.proto's
// ReductionResult), decoded: arrays [save point][quantity], row-major.
#ifndef ENSOLVE_CLIENT_STATISTICS_H_
#define ENSOLVE_CLIENT_STATISTICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ensolve/v1/solver.pb.h"

namespace ensolve {

struct EnsembleStatistics {
  bool final = false;
  int num_save = 0;
  int num_quantities = 0;
  int bins = 0;              // 0: no histogram
  int64_t trajectories = 0;  // covered, failed ones included
  int64_t failed = 0;        // left out (return code other than success)
  int64_t batches = 0;
  std::vector<std::string> quantities;
  // Values that entered each cell, and successful trajectories' NaN/inf values left out.
  std::vector<int64_t> count, nonfinite;
  // Empty when not requested; NaN where undefined (count 0; variance: count < 2).
  std::vector<double> mean, variance, min, max;  // variance unbiased
  std::vector<int64_t> histogram;                // [save][quantity][bins + 2], under..over

  size_t at(int save, int q) const { return static_cast<size_t>(save) * num_quantities + q; }
};

// Checks `result`'s tensors against `info` (shapes, dtypes, byte counts): INVALID_ARGUMENT
// naming the tensor otherwise.
absl::StatusOr<EnsembleStatistics> DecodeStatistics(const v1::ReductionInfo& info,
                                                    const v1::ReductionResult& result);

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_STATISTICS_H_
