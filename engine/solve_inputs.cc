#include "engine/solve_inputs.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/sampler.h"

namespace ensolve {
namespace {

// One input (u0 or p) of `dims` columns: the caller's rows, a sampler's, or the defaults
// (also for an input without columns when `no_columns_is_default`).
absl::Status ResolveOne(const char* name, int dims, bool no_columns_is_default,
                        const double* defaults, const double* data, int64_t rows,
                        const Sampler* sampler, const BatchInputs& in, bool draw_samples,
                        const double** out, int64_t* out_rows, const Sampler** out_sampler,
                        std::vector<double>* scratch) {
  if (sampler != nullptr && dims > 0) {
    if (sampler->dims() != dims) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": the sampler has ", sampler->dims(),
                                                     " dimensions; the model has ", dims));
    }
    *out_rows = in.count;
    if (!draw_samples) {
      *out = nullptr;
      *out_sampler = sampler;
      return absl::OkStatus();
    }
    scratch->resize(static_cast<size_t>(in.count) * dims);
    sampler->Fill(in.first, in.count, scratch->data());
    *out = scratch->data();
    return absl::OkStatus();
  }
  if (data == nullptr || (no_columns_is_default && dims == 0)) {
    *out = defaults;
    *out_rows = 1;
    return absl::OkStatus();
  }
  if (rows != 1 && rows != in.count) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": has ", rows, " rows; expected 1 (shared) or ", in.count, " (one per trajectory)"));
  }
  *out = data;
  *out_rows = rows;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ResolvedInputs> ResolveInputs(const Model& model, const BatchInputs& in,
                                             bool draw_samples) {
  if (in.count < 0) return absl::InvalidArgumentError("count: must not be negative");
  if (in.first < 0) return absl::InvalidArgumentError("first: must not be negative");
  ResolvedInputs r;
  r.count = in.count;
  r.first = in.first;
  r.seed = in.seed;
  r.t0 = in.t0;
  r.t1 = in.t1;
  r.saveat = in.saveat;
  // Initial states left to the model whose defaults depend on the parameters follow each
  // trajectory's parameters, so those must be known here (drawn on the host if sampled).
  const bool u0_from_params =
      in.u0 == nullptr && in.u0_sampler == nullptr && model.initial_state_depends_on_params();
  absl::Status s = ResolveOne("params", model.num_params(), true, model.param_defaults().data(),
                              in.p, in.p_rows, in.p_sampler, in, draw_samples || u0_from_params,
                              &r.p, &r.p_rows, &r.p_sampler, &r.p_scratch);
  if (!s.ok()) return s;
  if (u0_from_params) {
    const int n = model.num_states(), np = model.num_params();
    r.u0_rows = r.p_rows;
    r.u0_scratch.resize(static_cast<size_t>(r.u0_rows) * n);
    for (int64_t k = 0; k < r.u0_rows; ++k) {
      model.InitialState(r.p + k * np, r.u0_scratch.data() + k * n);
    }
    r.u0 = r.u0_scratch.data();
    return r;
  }
  const int n_in = model.num_input_states();
  if (n_in == model.num_states()) {
    s = ResolveOne("u0", model.num_states(), false, model.state_defaults().data(), in.u0,
                   in.u0_rows, in.u0_sampler, in, draw_samples, &r.u0, &r.u0_rows, &r.u0_sampler,
                   &r.u0_scratch);
    return s.ok() ? absl::StatusOr<ResolvedInputs>(std::move(r)) : s;
  }
  // A sensitivity model (engine/model/sensitivity.h): the input gives the base states, the
  // sensitivity states start at 0 (or at du0/dp when the model's defaults apply).
  if (in.u0 == nullptr && in.u0_sampler == nullptr) {
    r.u0 = model.state_defaults().data();
    r.u0_rows = 1;
    return r;
  }
  const double* base = nullptr;
  int64_t base_rows = 1;
  const Sampler* unused = nullptr;
  std::vector<double> drawn;
  s = ResolveOne("u0", n_in, false, model.state_defaults().data(), in.u0, in.u0_rows, in.u0_sampler,
                 in, /*draw_samples=*/true, &base, &base_rows, &unused, &drawn);
  if (!s.ok()) return s;
  const int n = model.num_states();
  r.u0_rows = base_rows;
  r.u0_scratch.assign(static_cast<size_t>(base_rows) * n, 0.0);
  for (int64_t k = 0; k < base_rows; ++k) {
    std::copy(base + k * n_in, base + (k + 1) * n_in, r.u0_scratch.data() + k * n);
  }
  r.u0 = r.u0_scratch.data();
  return r;
}

absl::Status CheckSpanInputs(const SolveOptions& o, const BatchInputs& in) {
  const bool any = in.t0 != nullptr || in.t1 != nullptr || in.saveat != nullptr;
  if (any && !o.span_per_trajectory) {
    return absl::InvalidArgumentError(
        "t0, t1, saveat: per-trajectory values need options.span_per_trajectory");
  }
  if (o.saveat_per_trajectory > 0 && in.saveat == nullptr && in.count > 0) {
    return absl::InvalidArgumentError(
        "saveat: options.saveat_per_trajectory is set but the batch has no save times");
  }
  return absl::OkStatus();
}

}  // namespace ensolve
