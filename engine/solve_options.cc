#include "engine/solve_options.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ensolve {

absl::StatusOr<Algorithm> ParseAlgorithm(std::string_view name) {
  std::vector<std::string> names;
  for (int i = 0; i < kNumAlgorithms; ++i) {
    const AlgorithmInfo& info = AlgorithmTable()[i];
    if (name == info.name) return info.algorithm;
    names.push_back(info.name);
  }
  // Client text is echoed at most 64 bytes long.
  const std::string shown(name.substr(0, 64));
  return absl::InvalidArgumentError(absl::StrCat("algorithm: unknown algorithm '", shown,
                                                 name.size() > 64 ? "...'" : "'",
                                                 "; expected one of ", absl::StrJoin(names, ", ")));
}

const char* AlgorithmName(Algorithm a) { return GetAlgorithmInfo(a).name; }

bool IsAdaptiveCapable(Algorithm a) { return GetAlgorithmInfo(a).adaptive; }

const char* PrecisionName(Precision p) { return p == Precision::kFloat32 ? "float32" : "float64"; }

absl::Status ValidateSpan(double t0, double t1, const double* saveat, int num_save) {
  auto bad = [](auto... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  if (!std::isfinite(t0) || !std::isfinite(t1)) return bad("t0, t1: must be finite");
  if (t1 == t0) return bad("t1: must differ from t0 (both are ", t0, ")");
  const bool forward = t1 > t0;
  const double lo = std::min(t0, t1), hi = std::max(t0, t1);
  for (int i = 0; i < num_save; ++i) {
    const double s = saveat[i];
    if (!std::isfinite(s) || s < lo || s > hi) {
      return bad("saveat[", i, "]: ", s, " is outside [t0, t1] = [", t0, ", ", t1, "]");
    }
    if (i > 0 && !(forward ? s > saveat[i - 1] : s < saveat[i - 1])) {
      return bad("saveat[", i, "]: ", s, " is not ", forward ? "greater" : "less", " than saveat[",
                 i - 1, "] = ", saveat[i - 1], "; save times must be strictly ",
                 forward ? "increasing" : "decreasing (t1 < t0 integrates backward)");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateOptions(const SolveOptions& o) {
  auto bad = [](auto... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  if (o.saveat_per_trajectory < 0 || (o.saveat_per_trajectory > 0 && !o.span_per_trajectory)) {
    return bad("saveat_per_trajectory: needs span_per_trajectory");
  }
  if (o.saveat_per_trajectory > 0 && !o.saveat.empty()) {
    return bad("saveat: must be empty when save times are per trajectory");
  }
  if (!o.span_per_trajectory) {
    if (absl::Status s =
            ValidateSpan(o.t0, o.t1, o.saveat.data(), static_cast<int>(o.saveat.size()));
        !s.ok()) {
      return s;
    }
  }
  const bool stochastic = GetAlgorithmInfo(o.algorithm).stochastic;
  if (stochastic && o.adaptive) {
    return bad("adaptive: ", AlgorithmName(o.algorithm),
               " is a fixed-step SDE method; set adaptive = false and dt > 0");
  }
  if (stochastic && !o.span_per_trajectory && o.t1 < o.t0) {
    return bad("t1: SDE methods integrate forward only (t1 > t0), got t0 = ", o.t0,
               ", t1 = ", o.t1);
  }
  const bool adaptive = o.adaptive && IsAdaptiveCapable(o.algorithm);
  if (o.adaptive && !IsAdaptiveCapable(o.algorithm)) {
    return bad("adaptive: ", AlgorithmName(o.algorithm),
               " has no error estimate; use a fixed step (adaptive = false, dt > 0)");
  }
  if (!std::isfinite(o.dt) || o.dt < 0) return bad("dt: must be finite and >= 0");
  if (!adaptive && o.dt <= 0) return bad("dt: a fixed-step solve needs dt > 0");
  if (adaptive) {
    if (!(o.abstol > 0) || !std::isfinite(o.abstol)) return bad("abstol: must be > 0");
    if (!(o.reltol > 0) || !std::isfinite(o.reltol)) return bad("reltol: must be > 0");
  }
  if (!std::isfinite(o.dtmin) || o.dtmin < 0) return bad("dtmin: must be finite and >= 0");
  if (o.max_steps <= 0) return bad("max_steps: must be > 0");
  return absl::OkStatus();
}

}  // namespace ensolve
