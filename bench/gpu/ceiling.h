// The hand-written Lorenz Tsit5 kernel (bench/gpu/ceiling_lorenz.cu), compiled with NVRTC
// for the device's own architecture and timed with CUDA events: the practical ceiling the
// engine's generated kernel is measured against.
#ifndef ENSOLVE_BENCH_GPU_CEILING_H_
#define ENSOLVE_BENCH_GPU_CEILING_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/solve_options.h"

namespace ensolve::bench {

class CeilingKernel {
 public:
  // Compiles `source_path` for device `device`.
  static absl::StatusOr<std::unique_ptr<CeilingKernel>> Create(int device,
                                                               const std::string& source_path);
  virtual ~CeilingKernel() = default;

  // Solves Lorenz for p[n][3] (u0 = (1, 0, 0), t in [0, t1]); returns the kernel's time in
  // milliseconds (events) and the final states, [n][3] row-major, in `final_state`.
  virtual absl::StatusOr<double> Run(Precision precision, bool adaptive, const double* p,
                                     long long n, double t1, double dt, double tol,
                                     std::vector<double>* final_state) = 0;
};

}  // namespace ensolve::bench

#endif  // ENSOLVE_BENCH_GPU_CEILING_H_
