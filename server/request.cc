#include "server/request.h"

#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/backend.h"
#include "server/raw_kernels.h"
#include "server/sensitivities.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Tensors are little-endian on the wire; this code assumes a little-endian host"
#endif

namespace ensolve::server {
namespace {

template <typename... Parts>
absl::Status Invalid(const Parts&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(parts...));
}

absl::Status Prefixed(const char* prefix, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(prefix, s.message()));
}

std::string ShapeString(const v1::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.shape(), ", "), "]");
}

std::string NamesString(const std::vector<std::string>& names) {
  constexpr size_t kMax = 8;
  std::vector<std::string> shown(names.begin(), names.begin() + std::min(names.size(), kMax));
  if (names.size() > kMax) shown.push_back("...");
  return absl::StrJoin(shown, ", ");
}

// The float64 values of a float64 or float32 tensor whose shape the caller has read as
// rows x cols; INVALID_ARGUMENT naming `field` for another dtype or a data size that does
// not match.
absl::Status DecodeValues(const v1::Tensor& t, const char* field, int64_t rows, int64_t cols,
                          std::vector<double>* out) {
  int elem = 0;
  if (t.dtype() == v1::DTYPE_FLOAT64) {
    elem = 8;
  } else if (t.dtype() == v1::DTYPE_FLOAT32) {
    elem = 4;
  } else {
    return Invalid(field, ": dtype must be DTYPE_FLOAT64 or DTYPE_FLOAT32, got ",
                   v1::DType_Name(t.dtype()));
  }
  const int64_t bytes = static_cast<int64_t>(t.data().size());
  const int64_t row_bytes = cols * elem;
  // Compared by division first so a huge declared shape cannot overflow.
  if ((row_bytes == 0 && bytes != 0) ||
      (row_bytes > 0 && (rows > bytes / row_bytes || rows * row_bytes != bytes))) {
    return Invalid(field, ": data has ", t.data().size(), " bytes, but shape ", ShapeString(t),
                   " of ", v1::DType_Name(t.dtype()), " needs shape[0] x ", row_bytes);
  }
  out->resize(static_cast<size_t>(rows * cols));
  if (elem == 8) {
    std::memcpy(out->data(), t.data().data(), t.data().size());
  } else {
    const char* p = t.data().data();
    for (size_t i = 0; i < out->size(); ++i) {
      float f;
      std::memcpy(&f, p + 4 * i, 4);
      (*out)[i] = f;
    }
  }
  return absl::OkStatus();
}

// Decodes one Inputs message for `dims` columns named `names` (`what` is "states" or
// "parameters"). Sets `*rows` to the number of rows (1 for shared rows and samplers).
absl::Status DecodeInputs(const v1::Inputs& in, const char* field, const char* what,
                          const std::vector<std::string>& names, InputSource* out) {
  const int dims = static_cast<int>(names.size());
  switch (in.source_case()) {
    case v1::Inputs::SOURCE_NOT_SET:
      // No values: the backend applies the model's defaults (a state's default may follow
      // each trajectory's parameters, so it is not fixed here).
      out->values.clear();
      out->rows = 1;
      return absl::OkStatus();
    case v1::Inputs::kSampler: {
      const v1::Sampler& s = in.sampler();
      SamplerSpec spec;
      spec.seed = s.seed();
      std::string prefix = absl::StrCat(field, ".sampler.");
      switch (s.distribution_case()) {
        case v1::Sampler::kUniform:
          spec.kind = SamplerKind::kUniform;
          spec.a.assign(s.uniform().lo().begin(), s.uniform().lo().end());
          spec.b.assign(s.uniform().hi().begin(), s.uniform().hi().end());
          prefix += "uniform";
          break;
        case v1::Sampler::kNormal:
          spec.kind = SamplerKind::kNormal;
          spec.a.assign(s.normal().mean().begin(), s.normal().mean().end());
          spec.b.assign(s.normal().stddev().begin(), s.normal().stddev().end());
          prefix += "normal";
          break;
        case v1::Sampler::kGrid:
          spec.kind = SamplerKind::kGrid;
          spec.a.assign(s.grid().lo().begin(), s.grid().lo().end());
          spec.b.assign(s.grid().hi().begin(), s.grid().hi().end());
          spec.points.assign(s.grid().points().begin(), s.grid().points().end());
          prefix += "grid";
          break;
        default:
          return Invalid(field, ".sampler: set one of uniform, normal, grid");
      }
      absl::StatusOr<Sampler> sampler = Sampler::Create(std::move(spec), dims, prefix.c_str());
      if (!sampler.ok()) {
        return Invalid(sampler.status().message(), " (the model has ", dims, " ", what, ": ",
                       NamesString(names), ")");
      }
      out->sampler = std::move(*sampler);
      out->rows = 1;
      return absl::OkStatus();
    }
    case v1::Inputs::kValues: {
      const v1::Tensor& t = in.values();
      int64_t rows = 0, cols = 0;
      if (t.shape_size() == 1) {
        rows = 1;
        cols = t.shape(0);
      } else if (t.shape_size() == 2) {
        rows = t.shape(0);
        cols = t.shape(1);
      }
      if (t.shape_size() < 1 || t.shape_size() > 2 || cols != dims || rows < 1) {
        return Invalid(field, ".values: shape ", ShapeString(t), " does not fit the model's ", dims,
                       " ", what, " (", NamesString(names), "): expected [", dims, "], [1, ", dims,
                       "] or [trajectories, ", dims, "]");
      }
      out->rows = rows;
      return DecodeValues(t, absl::StrCat(field, ".values").c_str(), rows, cols, &out->values);
    }
  }
  return Invalid(field, ": unknown source");
}

absl::Status BuildOptions(const v1::SolveOptions& in, int64_t max_save_points, SolveOptions* o) {
  if (!in.algorithm().empty()) {
    absl::StatusOr<Algorithm> a = ParseAlgorithm(in.algorithm());
    if (!a.ok()) return Prefixed("options.", a.status());
    o->algorithm = *a;
  }
  switch (in.precision()) {
    case v1::PRECISION_UNSPECIFIED:
    case v1::PRECISION_FLOAT64:
      o->precision = Precision::kFloat64;
      break;
    case v1::PRECISION_FLOAT32:
      o->precision = Precision::kFloat32;
      break;
    default:
      return Invalid("options.precision: unknown value ", in.precision());
  }
  o->t0 = in.t0();
  o->t1 = in.t1();
  absl::StatusOr<std::vector<double>> times = SaveTimes(in.saveat(), max_save_points);
  if (!times.ok()) return times.status();
  o->saveat = std::move(*times);
  o->adaptive = in.has_adaptive() ? in.adaptive() : IsAdaptiveCapable(o->algorithm);
  if (in.abstol() != 0) o->abstol = in.abstol();
  if (in.reltol() != 0) o->reltol = in.reltol();
  o->dt = in.dt();
  o->dtmin = in.dtmin();
  if (in.max_steps() != 0) o->max_steps = in.max_steps();
  return absl::OkStatus();
}

// SolveRequest's t0, t1 and saveat tensors: a shared row replaces the options' value; rows
// per trajectory go into the spec (their count into *rows, checked against the
// trajectories later).
absl::Status DecodeSpans(const v1::SolveRequest& req, int64_t max_save_points, JobSpec* spec,
                         int64_t* rows) {
  SolveOptions& o = spec->options;
  *rows = 1;
  auto note_rows = [&](int64_t r, const char* field) -> absl::Status {
    if (r > 1 && *rows > 1 && r != *rows) {
      return Invalid(field, ": ", r, " rows, but another per-trajectory input has ", *rows,
                     "; per-trajectory rows must agree");
    }
    *rows = std::max(*rows, r);
    return absl::OkStatus();
  };
  auto decode_time = [&](const v1::Tensor& t, const char* field, double* shared,
                         std::vector<double>* per_trajectory) -> absl::Status {
    if (t.shape_size() != 1 || t.shape(0) < 1) {
      return Invalid(field, ": shape ", ShapeString(t),
                     " must be [trajectories] (one value each) or [1] (shared)");
    }
    std::vector<double> v;
    if (absl::Status s = DecodeValues(t, field, t.shape(0), 1, &v); !s.ok()) return s;
    if (absl::Status s = note_rows(t.shape(0), field); !s.ok()) return s;
    if (v.size() == 1) {
      *shared = v[0];
    } else {
      *per_trajectory = std::move(v);
    }
    return absl::OkStatus();
  };
  if (req.has_t0()) {
    if (absl::Status s = decode_time(req.t0(), "t0", &o.t0, &spec->t0); !s.ok()) return s;
  }
  if (req.has_t1()) {
    if (absl::Status s = decode_time(req.t1(), "t1", &o.t1, &spec->t1); !s.ok()) return s;
  }
  if (req.has_saveat()) {
    const v1::Tensor& t = req.saveat();
    if (!o.saveat.empty()) return Invalid("saveat: set it or options.saveat, not both");
    int64_t r = 1, k = 0;
    if (t.shape_size() == 1) {
      k = t.shape(0);
    } else if (t.shape_size() == 2) {
      r = t.shape(0);
      k = t.shape(1);
    }
    if (t.shape_size() < 1 || t.shape_size() > 2 || r < 1 || k < 1) {
      return Invalid("saveat: shape ", ShapeString(t),
                     " must be [trajectories, save points], [1, save points] or [save points]");
    }
    if (k > max_save_points) {
      return absl::ResourceExhaustedError(absl::StrCat("saveat: ", k,
                                                       " save points exceed the server's limit of ",
                                                       max_save_points, " (--max_save_points)"));
    }
    std::vector<double> v;
    if (absl::Status s = DecodeValues(t, "saveat", r, k, &v); !s.ok()) return s;
    if (absl::Status s = note_rows(r, "saveat"); !s.ok()) return s;
    if (r == 1) {
      o.saveat = std::move(v);
    } else {
      spec->saveat = std::move(v);
      o.saveat_per_trajectory = static_cast<int>(k);
    }
  }
  o.span_per_trajectory = !spec->t0.empty() || !spec->t1.empty() || !spec->saveat.empty();
  return absl::OkStatus();
}

// Each trajectory's span, when any part of it is per trajectory.
absl::Status ValidateSpans(const JobSpec& spec) {
  const SolveOptions& o = spec.options;
  if (!o.span_per_trajectory) return absl::OkStatus();
  const int k = NumSaveTimes(o);
  for (int64_t i = 0; i < spec.trajectories; ++i) {
    const double t0 = spec.t0.empty() ? o.t0 : spec.t0[i];
    const double t1 = spec.t1.empty() ? o.t1 : spec.t1[i];
    const double* saves = spec.saveat.empty() ? o.saveat.data() : spec.saveat.data() + i * k;
    if (absl::Status s = ValidateSpan(t0, t1, saves, k); !s.ok()) {
      return Invalid("t0, t1, saveat: trajectory ", i, ": ", s.message());
    }
    if (t1 < t0 && GetAlgorithmInfo(o.algorithm).stochastic) {
      return Invalid("t0, t1: trajectory ", i, ": SDE methods integrate forward only (t1 > t0)");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<double>> SaveTimes(const v1::SaveAt& saveat, int64_t max_points) {
  const bool has_times = saveat.times_size() > 0;
  if (has_times && saveat.has_range()) {
    return Invalid("options.saveat: set times or range, not both");
  }
  if (has_times) {
    if (saveat.times_size() > max_points) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "options.saveat.times: ", saveat.times_size(),
          " save points exceed the server's limit of ", max_points, " (--max_save_points)"));
    }
    return std::vector<double>(saveat.times().begin(), saveat.times().end());
  }
  if (!saveat.has_range()) return std::vector<double>{};
  const v1::TimeRange& r = saveat.range();
  if (!std::isfinite(r.start()) || !std::isfinite(r.stop()) || !std::isfinite(r.step()) ||
      !(r.step() > 0) || r.stop() < r.start()) {
    return Invalid("options.saveat.range: needs finite start <= stop and step > 0 (got start = ",
                   r.start(), ", stop = ", r.stop(), ", step = ", r.step(), ")");
  }
  const double q = (r.stop() - r.start()) / r.step();
  if (!(q + 1 <= static_cast<double>(max_points))) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "options.saveat.range: ", std::floor(q + 1e-9) + 1,
        " save points exceed the server's limit of ", max_points, " (--max_save_points)"));
  }
  const int64_t n = static_cast<int64_t>(std::floor(q + 1e-9)) + 1;
  std::vector<double> times(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) times[i] = r.start() + static_cast<double>(i) * r.step();
  if (std::abs(times.back() - r.stop()) <= 1e-9 * r.step()) times.back() = r.stop();
  return times;
}

absl::StatusOr<JobSpec> BuildJobSpec(const v1::SolveRequest& req, const ServerConfig& config,
                                     ModelCache& models, absl::string_view tenant,
                                     bool* model_cached) {
  JobSpec spec;
  spec.tenant = std::string(tenant);
  if (req.request_id().size() > 128) {
    return Invalid("request_id: ", req.request_id().size(), " bytes, at most 128 allowed");
  }
  spec.request_id = req.request_id();

  switch (req.model_case()) {
    case v1::SolveRequest::kModelSource: {
      auto m = models.GetOrParse(tenant, req.model_source(), model_cached);
      if (!m.ok()) return Prefixed("model_source: ", m.status());
      spec.model = std::move(*m);
      break;
    }
    case v1::SolveRequest::kModelId: {
      auto m = models.Find(tenant, req.model_id());
      if (!m.ok()) return m.status();
      if (model_cached != nullptr) *model_cached = true;
      spec.model = std::move(*m);
      break;
    }
    case v1::SolveRequest::kRawKernel: {
      // Who may send one, and the source's size: CheckRawKernelRequest, before this.
      auto m = models.GetOrBuildRawKernel(tenant, RawKernelSpecOf(req.raw_kernel()), model_cached);
      if (!m.ok()) return m.status();
      spec.model = std::move(*m);
      if (!req.sensitivities().empty()) {
        return Invalid(
            "sensitivities: a raw kernel gives only the right-hand side, not its derivatives; "
            "send the model as model_source for sensitivities");
      }
      break;
    }
    default:
      return Invalid("model_source, model_id or raw_kernel: one of them is required");
  }
  const Model& model = *spec.model;

  if (absl::Status s = BuildOptions(req.options(), config.max_save_points, &spec.options);
      !s.ok()) {
    return s;
  }
  int64_t span_rows = 1;
  if (absl::Status s = DecodeSpans(req, config.max_save_points, &spec, &span_rows); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateOptions(spec.options); !s.ok()) return Prefixed("options.", s);
  if (absl::Status s = CheckAlgorithmFitsModel(model, spec.options.algorithm); !s.ok()) {
    return Prefixed("options.", s);
  }
  spec.seed = req.seed();

  spec.options.outputs.assign(req.outputs().begin(), req.outputs().end());
  if (absl::StatusOr<std::vector<ir::NodeId>> roots = model.SelectionRoots(spec.options.outputs);
      !roots.ok()) {
    return roots.status();
  }
  if (absl::Status s = AddSensitivities(
          std::vector<std::string>(req.sensitivities().begin(), req.sensitivities().end()), models,
          &spec);
      !s.ok()) {
    return s;
  }
  spec.return_inputs = req.return_inputs();

  if (absl::Status s = DecodeInputs(req.u0(), "u0", "states", model.state_names(), &spec.u0);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          DecodeInputs(req.params(), "params", "parameters", model.param_names(), &spec.params);
      !s.ok()) {
    return s;
  }

  if (req.first_trajectory() < 0) return Invalid("first_trajectory: must be >= 0");
  spec.first_trajectory = req.first_trajectory();
  const int64_t offset = spec.first_trajectory;

  // The number of trajectories: given, or implied by per-trajectory rows or a grid.
  if (req.trajectories() < 0) return Invalid("trajectories: must be >= 0");
  int64_t n = req.trajectories();
  const int64_t u0_rows = spec.u0.rows, p_rows = spec.params.rows;
  if (u0_rows > 1 && p_rows > 1 && u0_rows != p_rows) {
    return Invalid("u0.values, params.values: ", u0_rows, " and ", p_rows,
                   " rows; per-trajectory rows must agree");
  }
  const int64_t input_rows = std::max(u0_rows, p_rows);
  if (input_rows > 1 && span_rows > 1 && input_rows != span_rows) {
    return Invalid("t0, t1, saveat: ", span_rows, " rows, but ", u0_rows > 1 ? "u0" : "params",
                   ".values has ", input_rows, "; per-trajectory rows must agree");
  }
  const int64_t rows = std::max(input_rows, span_rows);
  if (n == 0 && rows > 1) n = rows;
  for (const auto& [src, field] : {std::pair{&spec.u0, "u0"}, std::pair{&spec.params, "params"}}) {
    const bool grid = src->sampler && src->sampler->spec().kind == SamplerKind::kGrid;
    if (n == 0 && grid && offset < src->sampler->size()) n = src->sampler->size() - offset;
    if (grid && (offset >= src->sampler->size() || n > src->sampler->size() - offset)) {
      if (offset == 0) {
        return Invalid(field, ".sampler.grid: has ", src->sampler->size(),
                       " points, fewer than the ", n, " trajectories");
      }
      return Invalid(field, ".sampler.grid: has ", src->sampler->size(),
                     " points, fewer than first_trajectory + trajectories = ", offset, " + ", n);
    }
  }
  if (n == 0) {
    return Invalid(
        "trajectories: must be > 0 (or implied by per-trajectory u0/params/t0/t1/saveat rows or "
        "a grid sampler)");
  }
  if (rows > 1 && rows != n) {
    return Invalid(
        input_rows > 1 ? (u0_rows > 1 ? "u0.values" : "params.values") : "t0, t1, saveat", ": ",
        rows, " rows, but trajectories = ", n, "; give 1 row (shared) or one row per trajectory");
  }
  spec.trajectories = n;
  if (absl::Status s = ValidateSpans(spec); !s.ok()) return s;
  if (!spec.per_trajectory_save_times()) {
    spec.save_times =
        spec.options.saveat.empty() ? std::vector<double>{spec.options.t1} : spec.options.saveat;
  }

  if (req.has_reductions()) {
    const std::vector<std::string>& quantities =
        spec.options.outputs.empty() ? model.state_names() : spec.options.outputs;
    ReductionRequest reduction;
    if (absl::Status s = DecodeReductions(req, spec.num_save(), quantities, &reduction); !s.ok()) {
      return s;
    }
    spec.reduction = std::move(reduction);
  }

  // Size limits (on what is streamed: states that stay on the server are bounded by the
  // batch size below and by the memory budget).
  if (n > config.max_trajectories) {
    return absl::ResourceExhaustedError(
        absl::StrCat("trajectories: ", n, " exceed the server's limit of ", config.max_trajectories,
                     " (--max_trajectories)"));
  }
  const int64_t per_traj = spec.bytes_per_trajectory();
  const bool streamed = spec.streams_states();
  if (streamed && per_traj > config.max_chunk_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "options.saveat: one trajectory's output (", spec.num_save(), " save points x ",
        spec.values_per_save(),
        spec.num_sensitivities() > 0 ? " values (states and their sensitivities)" : " states",
        " = ", per_traj, " bytes) exceeds the chunk limit of ", config.max_chunk_bytes,
        " bytes (--max_chunk_bytes); save fewer points"));
  }
  if (streamed && per_traj > 0 && n > config.max_output_bytes / per_traj) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "trajectories x saveat: the output would be ", n, " x ", per_traj,
        " bytes, over the server's limit of ", config.max_output_bytes,
        " bytes per request (--max_output_bytes); split the ensemble or save fewer points"));
  }

  if (req.batch_size() < 0) return Invalid("batch_size: must be >= 0");
  int64_t batch = req.batch_size();
  if (batch == 0) {
    batch = config.default_batch_size;
    if (per_traj > 0)
      batch = std::min(batch, std::max<int64_t>(1, config.batch_output_bytes / per_traj));
  }
  batch = std::min(batch, config.max_batch_size);
  spec.batch_size = std::max<int64_t>(1, std::min(batch, n));
  return spec;
}

}  // namespace ensolve::server
