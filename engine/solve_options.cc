#include "engine/solve_options.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace ensolve {

absl::StatusOr<Algorithm> ParseAlgorithm(std::string_view name) {
  for (int i = 0; i < kNumAlgorithms; ++i) {
    const auto a = static_cast<Algorithm>(i);
    if (name == AlgorithmName(a)) return a;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "algorithm: unknown algorithm '", std::string(name), "'; expected one of euler, rk4, tsit5"));
}

const char* AlgorithmName(Algorithm a) {
  switch (a) {
    case Algorithm::kEuler:
      return "euler";
    case Algorithm::kRK4:
      return "rk4";
    case Algorithm::kTsit5:
      return "tsit5";
  }
  return "?";
}

bool IsAdaptiveCapable(Algorithm a) { return a == Algorithm::kTsit5; }

const char* PrecisionName(Precision p) { return p == Precision::kFloat32 ? "float32" : "float64"; }

absl::Status ValidateOptions(const SolveOptions& o) {
  auto bad = [](auto... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  if (!std::isfinite(o.t0) || !std::isfinite(o.t1)) return bad("t0, t1: must be finite");
  if (!(o.t1 > o.t0)) {
    return bad("t1: must be greater than t0 (got t0 = ", o.t0, ", t1 = ", o.t1,
               "); backward integration is not supported");
  }
  for (size_t i = 0; i < o.saveat.size(); ++i) {
    const double s = o.saveat[i];
    if (!std::isfinite(s) || s < o.t0 || s > o.t1) {
      return bad("saveat[", i, "]: ", s, " is outside [t0, t1] = [", o.t0, ", ", o.t1, "]");
    }
    if (i > 0 && !(s > o.saveat[i - 1])) {
      return bad("saveat[", i, "]: ", s, " is not greater than saveat[", i - 1,
                 "] = ", o.saveat[i - 1], "; save times must be strictly increasing");
    }
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
