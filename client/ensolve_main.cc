// ensolve: the command-line client of ensolved.
//
//   ensolve solve model.ode --sample 'uniform:seed=1:lo=0,0,0:hi=10,28,2.67' -n 10000
//                 --saveat 0:1:100 -o out.npz
//   ensolve solve model.ode --params p.npy --u0 u0.csv -o out.csv
//   ensolve solve model.ode --sample 'grid:rho=0,21,100' --t1 1 -o -
//   ensolve validate model.ode      (no server needed)
//   ensolve info
//   ensolve health [SERVICE]   (exit 0 when SERVING: the container's health check)
//
// The server is --server (default: $ENSOLVE_SERVER, else localhost:50051). Exit status:
// see kUsage below.
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
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "client/cli_flags.h"
#include "client/cli_inputs.h"
#include "client/cli_model.h"
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
ABSL_FLAG(std::string, token, std::getenv("ENSOLVE_TOKEN") ? std::getenv("ENSOLVE_TOKEN") : "",
          "Bearer token for servers run with --tokens_file (env ENSOLVE_TOKEN)");
ABSL_FLAG(std::string, tls_ca, "",
          "TLS: the CA certificate (PEM) that signed the server's; any --tls_* turns TLS on "
          "(no CA: the system's roots)");
ABSL_FLAG(std::string, tls_cert, "", "TLS: this client's certificate (PEM), for mutual TLS");
ABSL_FLAG(std::string, tls_key, "", "TLS: this client's private key (PEM), with --tls_cert");
ABSL_FLAG(std::string, params, "",
          "Parameters: .npy, .npz[:key] or .csv (a header names the columns), one row shared "
          "or one per trajectory");
ABSL_FLAG(std::string, u0, "", "Initial states: .npy, .npz[:key] or .csv (as --params)");
ABSL_FLAG(std::string, sample, "",
          "Sample the parameters on the server: uniform:seed=1:lo=..:hi=.., normal:seed=1:mean=.."
          ":sd=.., grid:lo=..:hi=..:n=..; or by name, the rest at their defaults: "
          "grid:rho=0,21,100 (lo,hi,points), uniform:rho=0,28, normal:rho=28,0.5");
ABSL_FLAG(std::string, sample_u0, "", "Sample the initial states on the server (same syntax)");
ABSL_FLAG(int64_t, n, 0, "Trajectories (0: implied by the input rows or a grid)");
ABSL_FLAG(double, t0, 0.0, "Start time");
ABSL_FLAG(std::string, t1, "", "End time (default: the last save time)");
ABSL_FLAG(std::string, saveat, "", "Save times: start:step:stop or t1,t2,...; empty: final state");
ABSL_FLAG(std::string, alg, "tsit5", "Algorithm: euler, rk4, tsit5");
ABSL_FLAG(std::string, precision, "float64", "float64 or float32");
ABSL_FLAG(std::string, adaptive, "auto", "auto, true or false");
ABSL_FLAG(double, abstol, 0, "Absolute tolerance (0: server default 1e-6)");
ABSL_FLAG(double, reltol, 0, "Relative tolerance (0: server default 1e-3)");
ABSL_FLAG(double, dt, 0, "Step of fixed-step solves; initial step of adaptive ones");
ABSL_FLAG(int64_t, max_steps, 0, "Steps per trajectory before max_steps (0: server default)");
ABSL_FLAG(int64_t, batch_size, 0, "Trajectories per batch (0: server default)");
ABSL_FLAG(std::string, o, "",
          "Output: .npz (states u, save times t, retcode, accepted/rejected steps, inputs p and "
          "u0, names), .npy (states), .csv, or - for CSV on stdout (the summary then goes to "
          "stderr); checked before solving. Empty: the summary only");
ABSL_FLAG(std::string, outputs, "",
          "Save only these states and named outputs of the model, comma-separated, e.g. "
          "x,energy (empty: every state)");
ABSL_FLAG(std::string, sensitivities, "",
          "Also compute d(saved quantity)/d(parameter) for these parameters, comma-separated, "
          "e.g. rho,beta (the .npz gets `sensitivities` [trajectories, save points, states, "
          "params] and `sensitivity_names`)");
ABSL_FLAG(bool, allow_failures, false,
          "Exit 0 even when some trajectories did not reach t1 (otherwise exit 3)");
ABSL_FLAG(absl::Duration, timeout, absl::InfiniteDuration(), "Deadline of the call, e.g. 30s");
ABSL_FLAG(std::string, request_id, "", "Free text shown in the server's logs");
ABSL_FLAG(uint64_t, seed, 0, "SDE solves (em, siea): the seed of the Wiener increments");
ABSL_FLAG(std::string, progress, "auto",
          "Progress bar on stderr: auto (if a terminal), always, never");

namespace ensolve {
namespace {

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "ensolve: %s: %s\n", absl::StatusCodeToString(s.code()).c_str(),
               std::string(s.message()).c_str());
  return 1;
}

constexpr int kFailed = 1, kBadUsage = 2, kTrajectoriesFailed = 3;

int Usage(const std::string& message) {
  std::fprintf(stderr, "ensolve: %s\n(see ensolve --help)\n", message.c_str());
  return kBadUsage;
}

// A model error as the server reported it, with the line quoted from our copy.
int FailModel(const absl::Status& s, const ModelFile& model) {
  absl::string_view msg = s.message();
  if (s.code() == absl::StatusCode::kInvalidArgument &&
      absl::ConsumePrefix(&msg, "model_source: ")) {
    std::fprintf(stderr, "%s\n", FormatModelError(model.path, model.source, msg).c_str());
    return kFailed;
  }
  return Fail(s);
}

absl::Status SetInputs(const std::string& file, const std::string& sample, const char* name,
                       const Columns& columns, v1::Inputs* inputs) {
  if (!file.empty() && !sample.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("give a file or a sampler for ", name, ", not both"));
  }
  if (!file.empty()) {
    absl::StatusOr<v1::Tensor> t = ReadTable(file, &columns, name);
    if (!t.ok()) return t.status();
    *inputs->mutable_values() = std::move(*t);
  } else if (!sample.empty()) {
    absl::StatusOr<v1::Sampler> s = ParseSamplerSpec(sample, &columns);
    if (!s.ok()) return s.status();
    *inputs->mutable_sampler() = std::move(*s);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::SolveRequest> BuildRequest(const ModelFile& model) {
  v1::SolveRequest req;
  req.set_model_source(model.source);
  req.set_trajectories(absl::GetFlag(FLAGS_n));
  req.set_batch_size(absl::GetFlag(FLAGS_batch_size));
  req.set_request_id(absl::GetFlag(FLAGS_request_id));
  req.set_seed(absl::GetFlag(FLAGS_seed));
  for (absl::string_view name :
       absl::StrSplit(absl::GetFlag(FLAGS_outputs), ',', absl::SkipWhitespace())) {
    req.add_outputs(std::string(absl::StripAsciiWhitespace(name)));
  }
  for (absl::string_view name :
       absl::StrSplit(absl::GetFlag(FLAGS_sensitivities), ',', absl::SkipWhitespace())) {
    req.add_sensitivities(std::string(absl::StripAsciiWhitespace(name)));
  }
  // A .npz holds the inputs each trajectory used, sampled ones included.
  req.set_return_inputs(absl::EndsWith(absl::GetFlag(FLAGS_o), ".npz"));
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
  absl::StatusOr<v1::SaveAt> saveat = ParseSaveAt(absl::GetFlag(FLAGS_saveat));
  if (!saveat.ok()) return saveat.status();
  const std::string t1 = absl::GetFlag(FLAGS_t1);
  double t1_value = 0;
  if (!t1.empty()) {
    if (!absl::SimpleAtod(t1, &t1_value)) {
      return absl::InvalidArgumentError(absl::StrCat("--t1=", t1, ": not a number"));
    }
  } else if (saveat->has_range()) {
    t1_value = saveat->range().stop();
  } else if (saveat->times_size() > 0) {
    t1_value = saveat->times(saveat->times_size() - 1);
  } else {
    return absl::InvalidArgumentError("give --t1 (the end time) or --saveat (its last time)");
  }
  o->set_t1(t1_value);
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
  const Columns params{"parameter", model.param_names, model.param_defaults};
  if (absl::Status s = SetInputs(absl::GetFlag(FLAGS_params), absl::GetFlag(FLAGS_sample), "p",
                                 params, req.mutable_params());
      !s.ok()) {
    return s;
  }
  const Columns states{"state", model.state_names, model.state_defaults};
  if (absl::Status s = SetInputs(absl::GetFlag(FLAGS_u0), absl::GetFlag(FLAGS_sample_u0), "u0",
                                 states, req.mutable_u0());
      !s.ok()) {
    return s;
  }
  return req;
}

int Solve(Client& client, const std::string& model_path) {
  // Everything that can be checked here is, before the server spends anything.
  const std::string out = absl::GetFlag(FLAGS_o);
  if (!out.empty()) {
    if (absl::Status s = CheckOutputPath(out); !s.ok()) return Usage(std::string(s.message()));
  }
  absl::StatusOr<ModelFile> model = LoadModelFile(model_path);
  if (!model.ok()) {
    if (model.status().code() != absl::StatusCode::kInvalidArgument) {
      return Usage(std::string(model.status().message()));  // no such file
    }
    std::fprintf(stderr, "%s\n", std::string(model.status().message()).c_str());
    return kFailed;
  }
  absl::StatusOr<v1::SolveRequest> req = BuildRequest(*model);
  if (!req.ok()) return Usage(std::string(req.status().message()));
  // With the results on stdout, everything else goes to stderr.
  std::FILE* info = out == "-" ? stderr : stdout;
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
  if (!s.ok()) return FailModel(s, *model);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  absl::StatusOr<SolveResult> result = assembler.Take();
  if (!result.ok()) return Fail(result.status());
  PrintSummary(*result, seconds, info);
  if (!out.empty()) {
    ResultContext context;
    context.request = &*req;
    context.param_names = model->param_names;
    if (absl::Status w = WriteResult(out, *result, context); !w.ok()) return Fail(w);
    std::fprintf(info, "wrote %s: [%lld, %d, %d] %s\n", out == "-" ? "stdout" : out.c_str(),
                 static_cast<long long>(result->trajectories), result->num_save, result->num_states,
                 result->dtype == v1::DTYPE_FLOAT32 ? "float32" : "float64");
  }
  for (uint8_t c : result->retcodes) {
    if (c != v1::RET_CODE_SUCCESS && !absl::GetFlag(FLAGS_allow_failures)) {
      return kTrajectoriesFailed;
    }
  }
  return 0;
}

// Parses the model here: no server needed.
int Validate(const std::string& model_path) {
  absl::StatusOr<ModelFile> m = LoadModelFile(model_path);
  if (!m.ok()) {
    if (m.status().code() != absl::StatusCode::kInvalidArgument) {
      return Usage(std::string(m.status().message()));  // no such file
    }
    std::fprintf(stderr, "%s\n", std::string(m.status().message()).c_str());
    return kFailed;
  }
  auto named = [](const auto& names, const auto& values) {
    std::vector<std::string> parts;
    for (size_t i = 0; i < names.size(); ++i)
      parts.push_back(absl::StrCat(names[i], " = ", values[i]));
    return absl::StrJoin(parts, ", ");
  };
  std::printf("%s: ok\nmodel id: %s\nstates:   %s\nparams:   %s\noutputs:  %s\n",
              model_path.c_str(), m->id.c_str(), named(m->state_names, m->state_defaults).c_str(),
              named(m->param_names, m->param_defaults).c_str(),
              absl::StrJoin(m->output_names, ", ").c_str());
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
      "solve ensembles of ODEs on an ensolved server.\n"
      "  ensolve solve MODEL.ode [--params P.npy|P.npz[:key]|P.csv | --sample SPEC] [-n N]\n"
      "                [--saveat start:step:stop] [--t1 T] [-o OUT.npz|OUT.npy|OUT.csv|-]\n"
      "  ensolve validate MODEL.ode    (parses here; no server needed)\n"
      "  ensolve info\n"
      "  ensolve health [SERVICE]      (exit 0 when SERVING: a container's health check)\n"
      "Exit status: 0 done; 1 the model or the request failed (the message says why);\n"
      "2 bad usage (flags, arguments, an -o that cannot be written, unreadable inputs);\n"
      "3 solved, but some trajectories did not reach t1 (unless --allow_failures).");
  ensolve::ConfigureUsage("ensolve", ENSOLVE_VERSION);
  if (ensolve::HandleHelp(argc, argv)) return 0;
  if (absl::Status s = ensolve::CheckFlags(argc, argv); !s.ok()) {
    return ensolve::Usage(std::string(s.message()));
  }
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) return ensolve::Usage("missing command: solve, validate, info or health");
  const std::string command = args[1];
  if (command == "validate") {
    if (args.size() != 3) return ensolve::Usage("validate takes one model file");
    return ensolve::Validate(args[2]);
  }
  ensolve::Client::Options client_options;
  client_options.bearer_token = absl::GetFlag(FLAGS_token);
  absl::StatusOr<ensolve::TlsOptions> tls = ensolve::TlsFromFiles(
      absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key));
  if (!tls.ok()) return ensolve::Fail(tls.status());
  client_options.tls = *std::move(tls);
  auto client = ensolve::Client::Connect(absl::GetFlag(FLAGS_server), client_options);
  if (command == "solve") {
    if (args.size() != 3) return ensolve::Usage("solve takes one model file");
    return ensolve::Solve(*client, args[2]);
  }
  if (command == "health") {  // the serving status; exit 0 only when SERVING
    if (args.size() > 3) return ensolve::Usage("health takes at most a service name");
    const absl::Duration timeout = absl::GetFlag(FLAGS_timeout);
    absl::StatusOr<std::string> h = ensolve::CheckHealth(
        absl::GetFlag(FLAGS_server), args.size() == 3 ? args[2] : "",
        timeout == absl::InfiniteDuration() ? absl::Seconds(5) : timeout, client_options.tls);
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
