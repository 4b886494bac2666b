#include "client/cli_output.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/npy.h"

namespace ensolve {

absl::Status WriteResult(const std::string& path, const SolveResult& r) {
  const std::vector<int64_t> shape = {r.trajectories, r.num_save, r.num_states};
  if (absl::EndsWith(path, ".npy")) {
    if (r.dtype == v1::DTYPE_FLOAT32) {
      std::vector<float> narrow(r.states.begin(), r.states.end());  // exact: came as float32
      return WriteNpy(path, "<f4", shape, narrow.data(), narrow.size() * sizeof(float));
    }
    return WriteNpy(path, "<f8", shape, r.states.data(), r.states.size() * sizeof(double));
  }
  if (absl::EndsWith(path, ".csv")) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "w"), &std::fclose);
    if (f == nullptr) return absl::UnavailableError(absl::StrCat(path, ": cannot create"));
    std::fprintf(f.get(), "trajectory,t,%s,retcode\n",
                 absl::StrJoin(r.accepted.state_names(), ",").c_str());
    // %.17g round-trips doubles exactly.
    for (int64_t i = 0; i < r.trajectories; ++i) {
      for (int s = 0; s < r.num_save; ++s) {
        std::string line = absl::StrFormat("%d,%.17g", i, r.accepted.save_times(s));
        for (int k = 0; k < r.num_states; ++k) {
          absl::StrAppendFormat(&line, ",%.17g", r.state(i, s, k));
        }
        absl::StrAppendFormat(&line, ",%d\n", r.retcodes[i]);
        std::fputs(line.c_str(), f.get());
      }
    }
    if (std::fclose(f.release()) != 0)
      return absl::DataLossError(absl::StrCat(path, ": write failed"));
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("-o ", path, ": use a .npy or .csv file name"));
}

void PrintSummary(const SolveResult& r, double client_seconds, std::FILE* out) {
  const v1::SolveAccepted& a = r.accepted;
  const v1::SolveSummary& s = r.summary;
  std::fprintf(out,
               "job %s: %lld trajectories x %d save points x %d states (%s), %lld batches on %s\n",
               a.job_id().c_str(), static_cast<long long>(r.trajectories), r.num_save, r.num_states,
               r.dtype == v1::DTYPE_FLOAT32 ? "float32" : "float64",
               static_cast<long long>(a.batches()), absl::StrJoin(s.devices(), ",").c_str());
  std::fprintf(out, "time: %.3f s total (%.0f trajectories/s); server %.3f s, device %.3f s\n",
               client_seconds, client_seconds > 0 ? r.trajectories / client_seconds : 0.0,
               s.wall_seconds(), s.solve_seconds());
  std::vector<std::string> codes;
  for (const char* name : {"success", "max_steps", "dt_below_min", "unstable", "terminated"}) {
    auto it = s.retcode_counts().find(name);
    if (it != s.retcode_counts().end()) codes.push_back(absl::StrCat(name, "=", it->second));
  }
  std::fprintf(out, "return codes: %s\n", absl::StrJoin(codes, " ").c_str());
  if (r.trajectories == 0 || r.num_save == 0) return;
  std::fprintf(out, "final state (t = %g):\n", a.save_times(r.num_save - 1));
  for (int k = 0; k < r.num_states; ++k) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
    int64_t finite = 0;
    for (int64_t i = 0; i < r.trajectories; ++i) {
      const double v = r.state(i, r.num_save - 1, k);
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      sum += v;
      ++finite;
    }
    std::fprintf(out, "  %-10s mean %-12.6g min %-12.6g max %-12.6g\n", a.state_names(k).c_str(),
                 finite ? sum / finite : NAN, lo, hi);
  }
}

}  // namespace ensolve
