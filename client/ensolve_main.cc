// ensolve: the command-line client of ensolved.
//
//   ensolve solve model.ode --sample 'uniform:seed=1:lo=0,0,0:hi=10,28,2.67' -n 10000
//                 --t1 100 --saveat 0:1:100 -o out.npy
//   ensolve solve model.ode --params p.npy --u0 u0.csv -o out.csv
//   ensolve validate model.ode
//   ensolve info
//   ensolve health [SERVICE]   (exit 0 when SERVING: the container's health check)
//
// The server is --server (default: $ENSOLVE_SERVER, else localhost:50051). Exit status: 0
// success, 1 the request failed (the message says why), 2 bad usage.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/cli_inputs.h"
#include "client/cli_output.h"
#include "client/client.h"
#include "client/health.h"
#include "client/progress.h"

namespace {

std::string DefaultServer() {
  const char* env = std::getenv("ENSOLVE_SERVER");
  return env != nullptr ? env : "localhost:50051";
}

}  // namespace

ABSL_FLAG(std::string, server, DefaultServer(), "ensolved address (env ENSOLVE_SERVER)");
ABSL_FLAG(std::string, params, "",
          "Parameters: .npy or .csv, one row shared or one per trajectory");
ABSL_FLAG(std::string, u0, "",
          "Initial states: .npy or .csv, one row shared or one per trajectory");
ABSL_FLAG(std::string, sample, "",
          "Sample the parameters on the server, e.g. uniform:seed=1:lo=..:hi=..");
ABSL_FLAG(std::string, sample_u0, "", "Sample the initial states on the server (same syntax)");
ABSL_FLAG(int64_t, n, 0, "Trajectories (0: implied by the input rows or a grid)");
ABSL_FLAG(double, t0, 0.0, "Start time");
ABSL_FLAG(double, t1, 1.0, "End time");
ABSL_FLAG(std::string, saveat, "", "Save times: start:step:stop or t1,t2,...; empty: final state");
ABSL_FLAG(std::string, alg, "tsit5", "Algorithm: euler, rk4, tsit5");
ABSL_FLAG(std::string, precision, "float64", "float64 or float32");
ABSL_FLAG(std::string, adaptive, "auto", "auto, true or false");
ABSL_FLAG(double, abstol, 0, "Absolute tolerance (0: server default 1e-6)");
ABSL_FLAG(double, reltol, 0, "Relative tolerance (0: server default 1e-3)");
ABSL_FLAG(double, dt, 0, "Step of fixed-step solves; initial step of adaptive ones");
ABSL_FLAG(int64_t, max_steps, 0, "Steps per trajectory before max_steps (0: server default)");
ABSL_FLAG(int64_t, batch_size, 0, "Trajectories per batch (0: server default)");
ABSL_FLAG(std::string, o, "", "Output file: .npy or .csv (empty: print the summary only)");
ABSL_FLAG(absl::Duration, timeout, absl::InfiniteDuration(), "Deadline of the call, e.g. 30s");
ABSL_FLAG(std::string, request_id, "", "Free text shown in the server's logs");
ABSL_FLAG(std::string, progress, "auto",
          "Progress bar on stderr: auto (if a terminal), always, never");

namespace ensolve {
namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "ensolve: %s: %s\n", absl::StatusCodeToString(s.code()).c_str(),
               std::string(s.message()).c_str());
  return 1;
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "ensolve: %s\n(see ensolve --help)\n", message.c_str());
  return 2;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

absl::Status SetInputs(const std::string& file, const std::string& sample, const char* name,
                       v1::Inputs* inputs) {
  if (!file.empty() && !sample.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("give a file or a sampler for ", name, ", not both"));
  }
  if (!file.empty()) {
    absl::StatusOr<v1::Tensor> t = ReadTable(file);
    if (!t.ok()) return t.status();
    *inputs->mutable_values() = std::move(*t);
  } else if (!sample.empty()) {
    absl::StatusOr<v1::Sampler> s = ParseSamplerSpec(sample);
    if (!s.ok()) return s.status();
    *inputs->mutable_sampler() = std::move(*s);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SolveRequest> BuildRequest(const std::string& model_path) {
  v1::SolveRequest req;
  absl::StatusOr<std::string> source = ReadFile(model_path);
  if (!source.ok()) return source.status();
  req.set_model_source(*source);
  req.set_trajectories(absl::GetFlag(FLAGS_n));
  req.set_batch_size(absl::GetFlag(FLAGS_batch_size));
  req.set_request_id(absl::GetFlag(FLAGS_request_id));
  v1::SolveOptions* o = req.mutable_options();
  o->set_algorithm(absl::GetFlag(FLAGS_alg));
  const std::string precision = absl::GetFlag(FLAGS_precision);
  if (precision == "float32") {
    o->set_precision(v1::PRECISION_FLOAT32);
  } else if (precision == "float64") {
    o->set_precision(v1::PRECISION_FLOAT64);
  } else {
    return absl::InvalidArgumentError("--precision: float32 or float64");
  }
  o->set_t0(absl::GetFlag(FLAGS_t0));
  o->set_t1(absl::GetFlag(FLAGS_t1));
  absl::StatusOr<v1::SaveAt> saveat = ParseSaveAt(absl::GetFlag(FLAGS_saveat));
  if (!saveat.ok()) return saveat.status();
  *o->mutable_saveat() = std::move(*saveat);
  const std::string adaptive = absl::GetFlag(FLAGS_adaptive);
  if (adaptive == "true" || adaptive == "false") {
    o->set_adaptive(adaptive == "true");
  } else if (adaptive != "auto") {
    return absl::InvalidArgumentError("--adaptive: auto, true or false");
  }
  o->set_abstol(absl::GetFlag(FLAGS_abstol));
  o->set_reltol(absl::GetFlag(FLAGS_reltol));
  o->set_dt(absl::GetFlag(FLAGS_dt));
  o->set_max_steps(absl::GetFlag(FLAGS_max_steps));
  if (absl::Status s = SetInputs(absl::GetFlag(FLAGS_params), absl::GetFlag(FLAGS_sample), "params",
                                 req.mutable_params());
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SetInputs(absl::GetFlag(FLAGS_u0), absl::GetFlag(FLAGS_sample_u0), "u0",
                                 req.mutable_u0());
      !s.ok()) {
    return s;
  }
  return req;
}

int Solve(Client& client, const std::string& model_path) {
  absl::StatusOr<v1::SolveRequest> req = BuildRequest(model_path);
  if (!req.ok()) return Fail(req.status());
  const std::string progress = absl::GetFlag(FLAGS_progress);
  const bool show = progress == "always" || (progress == "auto" && isatty(STDERR_FILENO));
  std::unique_ptr<ProgressBar> bar;
  ResultAssembler assembler;
  CallOptions call;
  call.timeout = absl::GetFlag(FLAGS_timeout);
  const absl::Time start = absl::Now();
  absl::Status s = client.SolveStream(
      *req,
      [&](const v1::SolveResponse& r) {
        absl::Status st = assembler.Add(r);
        if (r.has_accepted())
          bar = std::make_unique<ProgressBar>(r.accepted().trajectories(), show);
        if (bar != nullptr) bar->Update(assembler.received());
        return st;
      },
      call);
  if (bar != nullptr) bar->Finish();
  if (!s.ok()) return Fail(s);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  absl::StatusOr<SolveResult> result = assembler.Take();
  if (!result.ok()) return Fail(result.status());
  PrintSummary(*result, seconds, stdout);
  const std::string out = absl::GetFlag(FLAGS_o);
  if (!out.empty()) {
    if (absl::Status w = WriteResult(out, *result); !w.ok()) return Fail(w);
    std::printf("wrote %s: [%lld, %d, %d] %s\n", out.c_str(),
                static_cast<long long>(result->trajectories), result->num_save, result->num_states,
                result->dtype == v1::DTYPE_FLOAT32 ? "float32" : "float64");
  }
  return 0;
}

int Validate(Client& client, const std::string& model_path) {
  absl::StatusOr<std::string> source = ReadFile(model_path);
  if (!source.ok()) return Fail(source.status());
  absl::StatusOr<v1::CompileModelResponse> m = client.CompileModel(*source);
  if (!m.ok()) {
    if (m.status().code() == absl::StatusCode::kInvalidArgument) {
      std::string msg(m.status().message());
      if (absl::StartsWith(msg, "model_source: ")) msg = msg.substr(14);
      std::fprintf(stderr, "%s: %s\n", model_path.c_str(), msg.c_str());
      return 1;
    }
    return Fail(m.status());
  }
  auto named = [](const auto& names, const auto& values) {
    std::vector<std::string> parts;
    for (int i = 0; i < names.size(); ++i)
      parts.push_back(absl::StrCat(names[i], " = ", values[i]));
    return absl::StrJoin(parts, ", ");
  };
  std::printf("%s: ok\nmodel id: %s\nstates:   %s\nparams:   %s\noutputs:  %s\n",
              model_path.c_str(), m->model_id().c_str(),
              named(m->state_names(), m->state_defaults()).c_str(),
              named(m->param_names(), m->param_defaults()).c_str(),
              absl::StrJoin(m->output_names(), ", ").c_str());
  for (const auto& d : m->diagnostics()) std::printf("note: %s\n", d.c_str());
  return 0;
}

int Info(Client& client) {
  absl::StatusOr<v1::ServerInfo> info = client.GetServerInfo();
  if (!info.ok()) return Fail(info.status());
  std::printf("ensolved %s at %s (%s)\n", info->version().c_str(),
              absl::GetFlag(FLAGS_server).c_str(), info->serving() ? "serving" : "draining");
  std::printf("devices:\n");
  for (const auto& d : info->devices()) {
    std::string hardware = d.model();
    if (!d.compute_capability().empty())
      absl::StrAppend(&hardware, ", sm ", d.compute_capability());
    absl::StrAppendFormat(&hardware, ", %.1f GiB", d.memory_bytes() / double(1 << 30));
    if (d.kind() == "cpu") absl::StrAppend(&hardware, ", ", d.threads(), " threads");
    std::printf("  %-8s %-5s batches=%lld busy=%.1fs  (%s)\n", d.name().c_str(), d.state().c_str(),
                static_cast<long long>(d.batches_solved()), d.busy_seconds(), hardware.c_str());
  }
  std::printf("algorithms: %s\n", absl::StrJoin(info->algorithms(), ", ").c_str());
  const v1::ServerLimits& l = info->limits();
  std::printf(
      "limits: batch %lld (max %lld), trajectories %lld, save points %lld, output %lld bytes, "
      "chunk %lld bytes\n",
      static_cast<long long>(l.default_batch_size()), static_cast<long long>(l.max_batch_size()),
      static_cast<long long>(l.max_trajectories()), static_cast<long long>(l.max_save_points()),
      static_cast<long long>(l.max_output_bytes()), static_cast<long long>(l.max_chunk_bytes()));
  std::printf("jobs: %lld active, %lld batches queued, %lld models cached\n",
              static_cast<long long>(info->active_jobs()),
              static_cast<long long>(info->queued_batches()),
              static_cast<long long>(info->cached_models()));
  return 0;
}

}  // namespace
}  // namespace ensolve

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "ensolve: solve ensembles of ODEs on an ensolved server.\n"
      "  ensolve solve MODEL.ode [--params P.npy|P.csv | --sample SPEC] [-n N] [--t1 T]\n"
      "                [--saveat start:step:stop] [-o OUT.npy|OUT.csv]\n"
      "  ensolve validate MODEL.ode\n"
      "  ensolve info\n"
      "  ensolve health [SERVICE]");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) return ensolve::Usage("missing command: solve, validate, info or health");
  const std::string command = args[1];
  auto client = ensolve::Client::Connect(absl::GetFlag(FLAGS_server));
  if (command == "solve" || command == "validate") {
    if (args.size() != 3) return ensolve::Usage(command + " takes one model file");
    return command == "solve" ? ensolve::Solve(*client, args[2])
                              : ensolve::Validate(*client, args[2]);
  }
  if (command == "health") {  // the serving status; exit 0 only when SERVING
    if (args.size() > 3) return ensolve::Usage("health takes at most a service name");
    const absl::Duration timeout = absl::GetFlag(FLAGS_timeout);
    absl::StatusOr<std::string> h =
        ensolve::CheckHealth(absl::GetFlag(FLAGS_server), args.size() == 3 ? args[2] : "",
                             timeout == absl::InfiniteDuration() ? absl::Seconds(5) : timeout);
    if (!h.ok()) return ensolve::Fail(h.status());
    std::printf("%s\n", h->c_str());
    return *h == "SERVING" ? 0 : 1;
  }
  if (command == "info") {
    if (args.size() != 2) return ensolve::Usage("info takes no arguments");
    return ensolve::Info(*client);
  }
  return ensolve::Usage("unknown command '" + command + "': solve, validate, info or health");
}
