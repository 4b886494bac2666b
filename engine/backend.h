// A backend solves batches of trajectories of one model. The CPU backend is always
// available; the CUDA backend when a driver and a device are present.
//
// Thread-safety: a Backend may be used from one thread at a time (each device worker owns
// one). Models are compiled once per backend with Prepare() and reused across batches.
#ifndef ENSOLVE_ENGINE_BACKEND_H_
#define ENSOLVE_ENGINE_BACKEND_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/batch.h"
#include "engine/model/model.h"
#include "engine/solve_options.h"

namespace ensolve {

// Set by the caller to ask a running batch to stop early; the batch then returns
// CANCELLED. Checked between steps, so a batch stops within about one step of work.
using CancelFlag = std::atomic<bool>;

// A model made ready for one backend (a tape for the CPU, a loaded kernel for a GPU).
class PreparedModel {
 public:
  virtual ~PreparedModel() = default;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // "cpu", "cuda:0", ...
  virtual std::string name() const = 0;

  // Compiles `model` for `options` (algorithm, precision). The result is valid for solves
  // with options that share algorithm and precision. `model` must outlive it.
  virtual absl::StatusOr<std::unique_ptr<PreparedModel>> Prepare(const Model& model,
                                                                 const SolveOptions& options) = 0;

  // Solves one batch. `options` must have passed ValidateOptions() and match `prepared`.
  // Input shapes are checked (INVALID_ARGUMENT). `cancel` may be null.
  virtual absl::StatusOr<BatchResult> Solve(const PreparedModel& prepared,
                                            const SolveOptions& options, const BatchInputs& inputs,
                                            const CancelFlag* cancel = nullptr) = 0;
};

// threads <= 0: one per hardware thread.
std::unique_ptr<Backend> NewCpuBackend(int threads = 0);

// The largest model a method with an n x n iteration matrix (the stiff rows of the
// algorithm table) may have on each backend. A GPU thread keeps its matrix in registers up
// to 4 states (float64) and in local memory past that, and NVRTC's work grows as n^3 with
// every loop unrolled; a CPU lane keeps its own matrix.
inline constexpr int kMaxStiffStatesCuda = 16;
inline constexpr int kMaxStiffStatesCpu = 256;

// INVALID_ARGUMENT ("algorithm: ...") when the method does not fit the model: an SDE
// method (the table's `stochastic`) for a model without noise, an ODE method for one with
// noise, a method for diagonal noise for a model whose noise is not.
absl::Status CheckAlgorithmFitsModel(const Model& model, Algorithm algorithm);

// INVALID_ARGUMENT naming the limit when `model` is too large for `algorithm` on a backend
// whose limit is `max_states`.
absl::Status CheckStiffModelSize(const Model& model, Algorithm algorithm, int max_states,
                                 const char* backend);

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_BACKEND_H_
