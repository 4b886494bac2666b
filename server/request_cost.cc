#include "server/request_cost.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/batch.h"
#include "server/memory_budget.h"

namespace ensolve::server {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / 4;
constexpr int64_t kCompileBytesPerSourceByte = 128;

// a x b, saturating at kMax (every figure here stays far below int64's range after that).
int64_t Mul(int64_t a, int64_t b) {
  if (a <= 0 || b <= 0) return 0;
  if (a > kMax / b) return kMax;
  return a * b;
}

int64_t TensorBytes(const v1::Tensor& t) {
  const int64_t wire = static_cast<int64_t>(t.data().size());
  // Decoded as float64: a float32 tensor takes twice its wire size.
  const int64_t decoded = t.dtype() == v1::DTYPE_FLOAT32 ? 2 * wire : wire;
  return wire + decoded;
}

int64_t TensorBytes(const v1::Inputs& in) {
  return in.source_case() == v1::Inputs::kValues ? TensorBytes(in.values()) : 0;
}

}  // namespace

int64_t InputBytesEstimate(const v1::SolveRequest& request) {
  // Per-trajectory spans too (t0, t1, saveat), kept decoded with the job.
  return TensorBytes(request.u0()) + TensorBytes(request.params()) + TensorBytes(request.t0()) +
         TensorBytes(request.t1()) + TensorBytes(request.saveat()) +
         TensorBytes(request.reductions().histogram_edges()) +
         static_cast<int64_t>(request.model_source().size()) +
         static_cast<int64_t>(request.raw_kernel().ByteSizeLong());
}

int64_t CompileBytesEstimate(int64_t source_bytes) {
  // Parse, CSE, the symbolic Jacobian and the tapes, per source byte with a floor; see
  // docs/reliability.md ("Budgets") for the measurement behind the factor.
  return (int64_t{4} << 20) + Mul(source_bytes, kCompileBytesPerSourceByte);
}

std::string JobCost::Describe() const {
  return absl::StrCat("buffered results ", FormatBytes(result_bytes), ", batch work ",
                      FormatBytes(work_bytes), ", chunk ", FormatBytes(chunk_bytes));
}

JobCost EstimateJobCost(const JobSpec& spec, const ServerConfig& config, int num_devices) {
  JobCost c;
  const int64_t batch = spec.batch_size;
  const int64_t batches = spec.num_batches();
  const int64_t per_traj_result = spec.bytes_per_trajectory() + int64_t{sizeof(RetCode)} +
                                  8 /*t_final*/ + int64_t{sizeof(TrajectoryStats)};
  // Reductions: each batch's statistics, and the job's; the per-trajectory arrays only when
  // they are streamed (a batch still computes them: batch work below).
  const int64_t reduction = spec.reduction.has_value() ? spec.reduction->spec.bytes() : 0;
  const int64_t computed = Mul(batch, per_traj_result) + reduction;
  const int64_t batch_result = spec.streams_states() ? computed : reduction;
  const int64_t window =
      std::min<int64_t>(batches, config.stream_buffer_batches + std::max(1, num_devices));
  c.result_bytes = Mul(window, batch_result);
  if (reduction > 0) {
    // The merged statistics, the batches waiting for an earlier one to merge (at most the
    // window), and the ReductionResult being written with gRPC's copy of it.
    c.result_bytes += Mul(window + 3, reduction);
  }
  // A running batch draws its inputs (and the initial states that follow them) as float64
  // and fills its result arrays; results already counted above once finished, so the
  // arrays being filled count here.
  const int64_t drawn =
      Mul(batch, int64_t{spec.model->num_params() + spec.solved_model()->num_states()} * 8);
  const int64_t running = std::min<int64_t>(batches, std::max(1, num_devices));
  c.work_bytes = Mul(running, drawn + computed);
  const int64_t rows_per_chunk =
      spec.bytes_per_trajectory() > 0
          ? std::max<int64_t>(1, config.max_chunk_bytes / spec.bytes_per_trajectory())
          : batch;
  int64_t chunk = Mul(std::min(rows_per_chunk, batch), per_traj_result);
  if (spec.return_inputs) {
    chunk += Mul(std::min(rows_per_chunk, batch),
                 int64_t{spec.model->num_params() + spec.model->num_states()} * 8);
  }
  c.chunk_bytes = spec.streams_states() ? 2 * chunk : 0;  // our message and gRPC's copy
  c.steps = Mul(spec.trajectories, spec.options.max_steps);
  return c;
}

}  // namespace ensolve::server
