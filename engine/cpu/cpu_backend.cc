// The CPU backend: every core, each solving W trajectories at a time through the shared
// algorithm templates, the model's right-hand side interpreted from its tape; the solve code
// built for the widest instruction set the core supports (isa.h, solve_isa.cc).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/algorithms/table.h"
#include "engine/backend.h"
#include "engine/batch_reduction.h"
#include "engine/cpu/isa.h"
#include "engine/cpu/lane_context.h"
#include "engine/cpu/prepared_events.h"
#include "engine/cpu/solve_isa.h"
#include "engine/cpu/thread_pool.h"
#include "engine/ir/tape.h"
#include "engine/solve_inputs.h"

namespace ensolve {
namespace {

// The model's tapes: f always; df/du and df/dt only when the method needs them.
class CpuPreparedModel : public PreparedModel {
 public:
  CpuPreparedModel(const Model& model, Algorithm algorithm, ir::Tape tape)
      : model(model), algorithm(algorithm), tape(std::move(tape)) {}
  const Model& model;
  const Algorithm algorithm;
  const ir::Tape tape;
  std::optional<ir::Tape> jacobian, time_derivative, outputs, noise;
  std::vector<std::string> output_names;  // what `outputs` computes
  cpu::PreparedEvents events;
};

// The solve code built for `isa` (solve_isa.cc).
template <class T>
void SolveOn(CpuIsa isa, cpu::ThreadPool& pool, const cpu::BatchJob<T>& job,
             const SolveOptions& o) {
  switch (isa) {
    case CpuIsa::kSse2:
      return cpu::sse2::Solve(pool, job, o);
    case CpuIsa::kAvx2:
      return cpu::avx2::Solve(pool, job, o);
    case CpuIsa::kAvx512:
      return cpu::avx512::Solve(pool, job, o);
  }
}

// Trajectories per pack of the solve code built for `isa`.
int LanesOn(CpuIsa isa, Precision p) {
  switch (isa) {
    case CpuIsa::kSse2:
      return cpu::sse2::Lanes(p);
    case CpuIsa::kAvx2:
      return cpu::avx2::Lanes(p);
    case CpuIsa::kAvx512:
      return cpu::avx512::Lanes(p);
  }
  return 0;
}

class CpuBackend : public Backend {
 public:
  // isa: the instruction set to run, or why the one asked for cannot run (every Prepare
  // and Solve then fails with that status).
  CpuBackend(int threads, absl::StatusOr<CpuIsa> isa) : pool_(threads), isa_(std::move(isa)) {}

  std::string name() const override { return "cpu"; }

  absl::StatusOr<std::unique_ptr<PreparedModel>> Prepare(const Model& model,
                                                         const SolveOptions& options) override {
    if (!isa_.ok()) return isa_.status();
    if (model.is_raw_kernel()) {
      return absl::FailedPreconditionError(
          "raw_kernel: a raw CUDA kernel runs only on a GPU device, not on the CPU backend");
    }
    if (absl::Status s = CheckStiffModelSize(model, options.algorithm, kMaxStiffStatesCpu, "CPU");
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckAlgorithmFitsModel(model, options.algorithm); !s.ok()) return s;
    const int n = model.num_states(), np = model.num_params();
    auto pm = std::make_unique<CpuPreparedModel>(
        model, options.algorithm, ir::CompileTape(model.graph(), model.rhs(), n, np));
    const AlgorithmInfo& info = GetAlgorithmInfo(options.algorithm);
    if (info.jacobian) {
      absl::StatusOr<ir::Tape> t = ir::TryCompileTape(model.graph(), model.jacobian(), n, np);
      if (!t.ok()) return t.status();
      pm->jacobian = *std::move(t);
    }
    if (!options.outputs.empty()) {
      absl::StatusOr<std::vector<ir::NodeId>> roots = model.SelectionRoots(options.outputs);
      if (!roots.ok()) return roots.status();
      absl::StatusOr<ir::Tape> t = ir::TryCompileTape(model.graph(), *roots, n, np);
      if (!t.ok()) return t.status();
      pm->outputs = *std::move(t);
      pm->output_names = options.outputs;
    }
    if (info.stochastic) {
      absl::StatusOr<ir::Tape> t = ir::TryCompileTape(model.graph(), model.noise(), n, np);
      if (!t.ok()) return t.status();
      pm->noise = *std::move(t);
    }
    if (absl::Status s = pm->events.Build(model); !s.ok()) return s;
    if (info.time_derivative) {
      absl::StatusOr<ir::Tape> t =
          ir::TryCompileTape(model.graph(), model.time_derivative(), n, np);
      if (!t.ok()) return t.status();
      pm->time_derivative = *std::move(t);
    }
    return pm;
  }

  absl::StatusOr<BatchResult> Solve(const PreparedModel& prepared, const SolveOptions& options,
                                    const BatchInputs& inputs, const CancelFlag* cancel) override {
    if (!isa_.ok()) return isa_.status();
    const auto& pm = static_cast<const CpuPreparedModel&>(prepared);
    if (pm.algorithm != options.algorithm) {
      return absl::InvalidArgumentError(absl::StrCat("options: ", AlgorithmName(options.algorithm),
                                                     " does not match the prepared model (",
                                                     AlgorithmName(pm.algorithm), ")"));
    }
    if (absl::Status s = CheckSpanInputs(options, inputs); !s.ok()) return s;
    absl::StatusOr<ResolvedInputs> resolved = ResolveInputs(pm.model, inputs);
    if (!resolved.ok()) return resolved.status();
    BatchResult result;
    const int width = NumSaved(options, pm.model.num_states());
    if (inputs.resume != nullptr) {
      // A later slice: continues the earlier slices' result in place.
      result = std::move(*inputs.resume);
      if (result.count != inputs.count || result.num_save != NumSavePoints(options) ||
          result.num_states != width || result.precision != options.precision ||
          result.resume.status.size() != static_cast<size_t>(inputs.count)) {
        return absl::InvalidArgumentError("resume: not a sliced result of this batch");
      }
    } else {
      result.Resize(inputs.count, NumSavePoints(options), width, options.precision);
      // Every trajectory's final state, return code and counters are written when it
      // retires; save points it never reached (it stopped early) stay NaN.
      if (NumSaveTimes(options) > 0) {
        result.states_f32.Fill(std::numeric_limits<float>::quiet_NaN());
        result.states_f64.Fill(std::numeric_limits<double>::quiet_NaN());
      }
      if (inputs.slice_seconds > 0 && inputs.count > 0) {
        const int vectors = alg::kDriverVectors + GetAlgorithmInfo(options.algorithm).vectors;
        // Each lane of each thread holds at most one suspended trajectory.
        const int lanes = LanesOn(*isa_, options.precision);
        // The vectors, then the parameters when events change them.
        const int params = pm.model.events_assign_params() ? pm.model.num_params() : 0;
        result.resume.Reset(inputs.count, pool_.size() * lanes,
                            vectors * pm.model.num_states() + params);
      }
    }
    if (inputs.count == 0) {
      if (inputs.reduction != nullptr) {
        if (absl::Status s = ReduceBatchOnHost(*inputs.reduction, &result, &pool_); !s.ok()) {
          return s;
        }
      }
      return result;
    }
    if (options.precision == Precision::kFloat32) {
      Run<float>(pm, options, *resolved, inputs.slice_seconds, cancel, result.states_f32.data(),
                 result);
    } else {
      Run<double>(pm, options, *resolved, inputs.slice_seconds, cancel, result.states_f64.data(),
                  result);
    }
    if (cancel && cancel->load()) return absl::CancelledError("batch cancelled");
    // Reductions right after the batch, over its states while they are in cache-sized
    // pieces of memory this backend just wrote (docs/performance.md, "Reductions").
    if (inputs.reduction != nullptr && result.resume.Unfinished() == 0) {
      if (absl::Status s = ReduceBatchOnHost(*inputs.reduction, &result, &pool_); !s.ok()) return s;
    }
    return result;
  }

 private:
  template <class T>
  void Run(const CpuPreparedModel& pm, const SolveOptions& options, const ResolvedInputs& in,
           double slice_seconds, const CancelFlag* cancel, T* out, BatchResult& result) {
    std::atomic<int64_t> next{0};
    cpu::BatchJob<T> job;
    job.tape = &pm.tape;
    job.jacobian = pm.jacobian ? &*pm.jacobian : nullptr;
    job.time_derivative = pm.time_derivative ? &*pm.time_derivative : nullptr;
    job.outputs = pm.outputs ? &*pm.outputs : nullptr;
    job.noise = pm.noise ? &*pm.noise : nullptr;
    job.m = pm.noise ? pm.model.num_wiener() : 0;
    job.seed = in.seed;
    job.first = in.first;
    job.out_width = result.num_states;
    job.n = pm.model.num_states();
    job.np = pm.model.num_params();
    // A sensitivity model's Jacobian is block lower triangular (engine/model/sensitivity.h).
    // ENSOLVE_CPU_DENSE_LU=1 factors it densely instead (to measure the difference).
    job.blocks = dense_lu_ ? 1 : 1 + static_cast<int>(pm.model.sensitivity_params().size());
    job.u0 = in.u0;
    job.u0_rows = in.u0_rows;
    job.p = in.p;
    job.p_rows = in.p_rows;
    job.t0 = options.t0;
    job.t1 = options.t1;
    job.t0s = in.t0;
    job.t1s = in.t1;
    job.num_save = NumSaveTimes(options);
    job.saveat = in.saveat != nullptr ? in.saveat : options.saveat.data();
    job.saveat_stride = in.saveat != nullptr ? job.num_save : 0;
    job.out_saves = result.num_save;
    job.out = out;
    job.retcodes = result.retcodes.data();
    job.t_final = result.t_final.data();
    job.stats = result.stats.data();
    job.count = in.count;
    job.next = &next;
    job.cancel = cancel;
    if (result.resume.status.size() > 0) {
      job.resume = &result.resume;
      job.pause_at = slice_seconds > 0
                         ? std::chrono::steady_clock::now() +
                               std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(slice_seconds))
                         : std::chrono::steady_clock::time_point::max();
    }
    std::atomic<int> next_slot{0};
    job.next_slot = &next_slot;
    job.events = pm.events.Job(result.events_fired.data());
    SolveOn<T>(*isa_, pool_, job, options);
    if (job.resume != nullptr) job.resume->from = 1 - job.resume->from;
  }

  cpu::ThreadPool pool_;
  const absl::StatusOr<CpuIsa> isa_;
  const bool dense_lu_ = [] {
    const char* v = std::getenv("ENSOLVE_CPU_DENSE_LU");
    return v != nullptr && std::string_view(v) == "1";
  }();
};

}  // namespace

std::unique_ptr<Backend> NewCpuBackend(int threads) {
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  return std::make_unique<CpuBackend>(threads, CpuIsaFromEnvironment());
}

std::unique_ptr<Backend> NewCpuBackend(int threads, CpuIsa isa) {
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  absl::StatusOr<CpuIsa> checked = isa;
  if (!CpuIsaSupported(isa)) {
    checked =
        absl::FailedPreconditionError(absl::StrCat("the CPU does not support ", CpuIsaName(isa)));
  }
  return std::make_unique<CpuBackend>(threads, std::move(checked));
}

}  // namespace ensolve
