// Solving a batch in time slices (BatchInputs::slice_seconds and resume), as the server's
// scheduler does, for tests that compare a sliced run with the unsliced one.
#ifndef ENSOLVE_ENGINE_TESTING_SLICES_H_
#define ENSOLVE_ENGINE_TESTING_SLICES_H_

#include <algorithm>
#include <chrono>

#include "absl/status/statusor.h"
#include "engine/backend.h"

namespace ensolve::testing {

struct SlicedSolve {
  absl::StatusOr<BatchResult> whole;   // one call, no slices
  absl::StatusOr<BatchResult> sliced;  // the same batch resumed slice after slice
  int slices = 0;                      // calls the sliced run took
};

// Solves `in` whole, then in slices of about 1/16 of the whole run's time, however fast
// this build and this machine are (a sanitizer build is 100 times slower than -O3; a
// loaded CI machine can make the timed whole run slow). If that took fewer than 3 calls
// the sliced run is repeated with slices half as long, down to 1 microsecond, so that a
// test asserting slices > 2 tests slicing and not the machine's load.
inline SlicedSolve SolveInSlices(Backend& backend, const PreparedModel& prepared,
                                 const SolveOptions& options, const BatchInputs& in) {
  SlicedSolve out{absl::UnknownError("not run"), absl::UnknownError("not run")};
  const auto start = std::chrono::steady_clock::now();
  out.whole = backend.Solve(prepared, options, in);
  const double whole_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!out.whole.ok()) return out;
  for (double slice = std::max(1e-6, whole_seconds / 16);; slice = std::max(1e-6, slice / 2)) {
    BatchInputs sliced = in;
    sliced.slice_seconds = slice;
    out.sliced = backend.Solve(prepared, options, sliced);
    out.slices = 1;
    while (out.sliced.ok() && out.sliced->resume.Unfinished() > 0 && out.slices < 100000) {
      BatchInputs next = sliced;
      next.resume = &*out.sliced;
      out.sliced = backend.Solve(prepared, options, next);
      ++out.slices;
    }
    if (!out.sliced.ok() || out.slices > 2 || slice <= 1e-6) return out;
  }
}

}  // namespace ensolve::testing

#endif  // ENSOLVE_ENGINE_TESTING_SLICES_H_
