#include "client/cli_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/npy.h"
#include "client/npz.h"
#include "client/tensor.h"

namespace ensolve {
namespace {

std::string Extension(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  return path.substr(dot);
}

template <typename T>
std::string Npy(absl::string_view descr, const std::vector<int64_t>& shape, const T* data,
                size_t count) {
  std::string out = NpyHeader(descr, shape);
  out.append(reinterpret_cast<const char*>(data), count * sizeof(T));
  return out;
}

// `values` of shape `shape`, in the dtype the server computed in.
std::string ResultNpy(const SolveResult& r, const std::vector<int64_t>& shape,
                      const std::vector<double>& values) {
  if (r.dtype == v1::DTYPE_FLOAT32) {
    std::vector<float> narrow(values.begin(), values.end());  // exact: came as float32
    return Npy("<f4", shape, narrow.data(), narrow.size());
  }
  return Npy("<f8", shape, values.data(), values.size());
}

std::string StatesNpy(const SolveResult& r) {
  return ResultNpy(r, {r.trajectories, r.num_save, r.num_states}, r.states);
}

// A NumPy array of fixed-width unicode strings ('<U<n>': UTF-32LE code units; the names of
// models are ASCII).
template <typename Names>
std::string NamesNpy(const Names& names) {
  size_t width = 1;
  for (const auto& n : names) width = std::max(width, std::string(n).size());
  std::vector<uint32_t> units;
  for (const auto& n : names) {
    const std::string s(n);
    for (size_t i = 0; i < width; ++i)
      units.push_back(i < s.size() ? static_cast<unsigned char>(s[i]) : 0);
  }
  return Npy(absl::StrCat("<U", width), {static_cast<int64_t>(names.size())}, units.data(),
             units.size());
}

// The input table sent in `inputs`, as float64 .npy bytes, or "" when none was sent.
std::string InputsNpy(const v1::Inputs& inputs) {
  if (!inputs.has_values()) return "";
  absl::StatusOr<std::vector<double>> v = ToDoubles(inputs.values());
  if (!v.ok()) return "";
  std::vector<int64_t> shape(inputs.values().shape().begin(), inputs.values().shape().end());
  return Npy("<f8", shape, v->data(), v->size());
}

// One row per (trajectory, save point); each row also carries its trajectory's outcome, so
// a CSV is self-describing on its own.
absl::Status WriteCsv(std::FILE* f, const SolveResult& r) {
  const bool has_final = static_cast<int64_t>(r.t_final.size()) == r.trajectories;
  const bool has_evals = static_cast<int64_t>(r.rhs_evals.size()) == r.trajectories;
  std::fprintf(f, "trajectory,t,%s,retcode%s,accepted_steps,rejected_steps%s\n",
               absl::StrJoin(r.accepted.state_names(), ",").c_str(), has_final ? ",t_final" : "",
               has_evals ? ",rhs_evals" : "");
  // %.17g round-trips doubles exactly.
  for (int64_t i = 0; i < r.trajectories; ++i) {
    std::string outcome = absl::StrCat(",", r.retcodes[i]);
    if (has_final) absl::StrAppendFormat(&outcome, ",%.17g", r.t_final[i]);
    absl::StrAppend(&outcome, ",", r.accepted_steps[i], ",", r.rejected_steps[i]);
    if (has_evals) absl::StrAppend(&outcome, ",", r.rhs_evals[i]);
    outcome.push_back('\n');
    for (int s = 0; s < r.num_save; ++s) {
      std::string line = absl::StrFormat("%d,%.17g", i, r.save_time(i, s));
      for (int k = 0; k < r.num_states; ++k)
        absl::StrAppendFormat(&line, ",%.17g", r.state(i, s, k));
      line += outcome;
      if (std::fputs(line.c_str(), f) < 0) return absl::DataLossError("write failed");
    }
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, const std::string& bytes) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (f == nullptr) return absl::UnavailableError(absl::StrCat(path, ": cannot create"));
  if (std::fwrite(bytes.data(), 1, bytes.size(), f.get()) != bytes.size() ||
      std::fclose(f.release()) != 0) {
    return absl::DataLossError(absl::StrCat(path, ": write failed"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckOutputPath(const std::string& path) {
  if (path == "-") return absl::OkStatus();
  const std::string ext = Extension(path);
  if (ext != ".npz" && ext != ".npy" && ext != ".csv") {
    return absl::InvalidArgumentError(absl::StrCat(
        "-o ", path, ": ",
        ext.empty() ? "no extension" : absl::StrCat("unknown extension '", ext, "'"),
        "; use .npz (states, times, return codes, inputs, stats), .npy (states) or .csv, or "
        "- for CSV on stdout"));
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("-o ", path, ": folder ", dir, " does not exist"));
  }
  // Try it for real (access() says yes to root everywhere): open an existing file for
  // writing without truncating it, or create the file and remove it again.
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("-o ", path, ": is a folder"));
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
    if (fd < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("-o ", path, ": cannot write the file (", std::strerror(errno), ")"));
    }
    ::close(fd);
  } else {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
      return absl::InvalidArgumentError(absl::StrCat("-o ", path, ": cannot create a file in ", dir,
                                                     " (", std::strerror(errno), ")"));
    }
    ::close(fd);
    ::unlink(path.c_str());
  }
  return absl::OkStatus();
}

absl::Status WriteResult(const std::string& path, const SolveResult& r,
                         const ResultContext& context) {
  if (absl::Status s = CheckOutputPath(path); !s.ok()) return s;
  if (path == "-") {
    absl::Status s = WriteCsv(stdout, r);
    if (s.ok() && std::fflush(stdout) != 0) s = absl::DataLossError("stdout: write failed");
    return s;
  }
  const std::string ext = Extension(path);
  if (ext == ".npy") return WriteFile(path, StatesNpy(r));
  if (ext == ".csv") {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "w"), &std::fclose);
    if (f == nullptr) return absl::UnavailableError(absl::StrCat(path, ": cannot create"));
    if (absl::Status s = WriteCsv(f.get(), r); !s.ok())
      return absl::DataLossError(absl::StrCat(path, ": ", s.message()));
    if (std::fclose(f.release()) != 0)
      return absl::DataLossError(absl::StrCat(path, ": write failed"));
    return absl::OkStatus();
  }
  const int64_t n = r.trajectories;
  // t: [save points], or [trajectories, save points] when each has its own.
  std::vector<double> times(r.accepted.save_times().begin(), r.accepted.save_times().end());
  std::vector<int64_t> times_shape = {static_cast<int64_t>(times.size())};
  if (!r.save_times.empty()) {
    times = r.save_times;
    times_shape = {n, r.num_save};
  }
  std::vector<NpzMember> members = {
      {"u", StatesNpy(r)},
      {"t", Npy("<f8", times_shape, times.data(), times.size())},
      {"retcode", Npy("|u1", {n}, r.retcodes.data(), r.retcodes.size())},
      {"accepted_steps", Npy("<i4", {n}, r.accepted_steps.data(), r.accepted_steps.size())},
      {"rejected_steps", Npy("<i4", {n}, r.rejected_steps.data(), r.rejected_steps.size())},
  };
  if (static_cast<int64_t>(r.t_final.size()) == n) {
    members.push_back({"t_final", Npy("<f8", {n}, r.t_final.data(), r.t_final.size())});
  }
  if (static_cast<int64_t>(r.rhs_evals.size()) == n) {
    members.push_back({"rhs_evals", Npy("<i4", {n}, r.rhs_evals.data(), r.rhs_evals.size())});
  }
  if (static_cast<int64_t>(r.events_fired.size()) == n) {  // models with events
    members.push_back(
        {"events_fired", Npy("<i4", {n}, r.events_fired.data(), r.events_fired.size())});
  }
  // The inputs used: what the server returned (every row, sampled ones included), else the
  // tables sent.
  auto inputs = [&](const char* key, const std::vector<double>& used, const v1::Inputs* sent) {
    if (n > 0 && !used.empty() && used.size() % static_cast<size_t>(n) == 0) {
      const int64_t dims = static_cast<int64_t>(used.size()) / n;
      members.push_back({key, Npy("<f8", {n, dims}, used.data(), used.size())});
    } else if (sent != nullptr) {
      if (std::string npy = InputsNpy(*sent); !npy.empty())
        members.push_back({key, std::move(npy)});
    }
  };
  const v1::SolveRequest* req = context.request;
  inputs("p", r.params, req != nullptr ? &req->params() : nullptr);
  inputs("u0", r.u0_used, req != nullptr ? &req->u0() : nullptr);
  members.push_back({"state_names", NamesNpy(r.accepted.state_names())});
  members.push_back({"param_names", NamesNpy(context.param_names)});
  if (r.num_sensitivities > 0) {
    members.push_back(
        {"sensitivities",
         ResultNpy(r, {n, r.num_save, r.num_states, r.num_sensitivities}, r.sensitivities)});
    members.push_back({"sensitivity_names", NamesNpy(r.accepted.sensitivities())});
  }
  return WriteNpz(path, members);
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
  for (const char* name :
       {"success", "max_steps", "dt_below_min", "unstable", "terminated", "singular"}) {
    auto it = s.retcode_counts().find(name);
    if (it != s.retcode_counts().end()) codes.push_back(absl::StrCat(name, "=", it->second));
  }
  std::fprintf(out, "return codes: %s\n", absl::StrJoin(codes, " ").c_str());
  int64_t ok = 0;
  for (uint8_t c : r.retcodes) ok += c == v1::RET_CODE_SUCCESS;
  const int64_t failed = r.trajectories - ok;
  if (failed > 0) {
    std::fprintf(out, "FAILED: %lld of %lld trajectories did not reach t1 (see return codes)\n",
                 static_cast<long long>(failed), static_cast<long long>(r.trajectories));
  }
  if (r.trajectories == 0 || r.num_save == 0) return;
  if (r.save_times.empty()) {
    std::fprintf(out, "final state (t = %g) over the %lld successful trajectories:\n",
                 a.save_times(r.num_save - 1), static_cast<long long>(ok));
  } else {
    std::fprintf(out,
                 "final state (each trajectory's last save time) over the %lld successful "
                 "trajectories:\n",
                 static_cast<long long>(ok));
  }
  for (int k = 0; k < r.num_states; ++k) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
    int64_t finite = 0;
    for (int64_t i = 0; i < r.trajectories; ++i) {
      if (r.retcodes[i] != v1::RET_CODE_SUCCESS) continue;
      const double v = r.state(i, r.num_save - 1, k);
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      sum += v;
      ++finite;
    }
    if (finite == 0) {
      std::fprintf(out, "  %-10s (no successful trajectory)\n", a.state_names(k).c_str());
      continue;
    }
    std::fprintf(out, "  %-10s mean %-12.6g min %-12.6g max %-12.6g\n", a.state_names(k).c_str(),
                 sum / finite, lo, hi);
  }
}

}  // namespace ensolve
