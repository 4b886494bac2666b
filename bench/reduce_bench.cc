// ensolve-reduce-bench: a Monte Carlo ensemble through ensolved and the C++ client, its
// statistics computed where the batches run (SolveRequest.reductions, states not streamed),
// beside the same request returning every state. Reports wall time, trajectories per second
// and the bytes the client received. Prints a table; asserts nothing.
//
//   ensolve-reduce-bench [--target=host:port | --devices=cpu|cuda:0|auto --threads=N]
//       [--model=FILE] [--algorithm=tsit5] [--trajectories=N] [--save_points=100]
//       [--t1=1] [--dt=0.01] [--states_trajectories=N] [--reps=1]
//       [--statistics=mean,var] [--cpu_batch=10000]
//
// Without --target it starts ensolved in this process on loopback with --devices. The model
// defaults to an ODE stand-in for geometric Brownian motion's mean (x' = mu*x from x = 0.1,
// mu drawn uniformly from [1, 2] per trajectory so the statistics have a spread); with an
// SDE model file and --algorithm=em it is the benchmark:
//   ensolve-reduce-bench --devices=cuda:0 --model=gbm.ode --algorithm=em
//       --trajectories=100000000 --save_points=100
// A second table measures the CPU backend's reduction in-process (--cpu_batch trajectories,
// default 10,000): one batch solved with and without statistics, so the cost of reducing
// right after the batch shows against the solve.
// The full-states run solves min(trajectories, --states_trajectories) (default 10^6: a
// full 10^8 x 100 x 8-byte result is 80 GB, past any server's max_output_bytes) and the
// table extrapolates its bytes and time to the whole ensemble.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "engine/backend.h"
#include "engine/model/model.h"
#include "engine/sampler.h"
#include "server/log.h"
#include "server/server.h"

namespace ensolve {
namespace {

constexpr char kStandIn[] = "state x = 0.1\nparam mu = 1.5\nx' = mu*x\n";

struct Flags {
  std::string target, devices = "cpu", model, algorithm = "tsit5";
  std::string statistics = "mean,var";
  int threads = 0, save_points = 100, reps = 1;
  int64_t trajectories = 1000000, states_trajectories = 1000000, cpu_batch = 10000;
  double t1 = 1, dt = 0.01;
};

bool Parse(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name, std::string* out) {
      const std::string p = absl::StrCat("--", name, "=");
      if (a.rfind(p, 0) != 0) return false;
      *out = a.substr(p.size());
      return true;
    };
    std::string v;
    bool ok = true;
    if (value("target", &f->target) || value("devices", &f->devices) || value("model", &f->model) ||
        value("algorithm", &f->algorithm) || value("statistics", &f->statistics)) {
    } else if (value("threads", &v)) {
      ok = absl::SimpleAtoi(v, &f->threads);
    } else if (value("save_points", &v)) {
      ok = absl::SimpleAtoi(v, &f->save_points) && f->save_points >= 1;
    } else if (value("reps", &v)) {
      ok = absl::SimpleAtoi(v, &f->reps) && f->reps >= 1;
    } else if (value("trajectories", &v)) {
      ok = absl::SimpleAtoi(v, &f->trajectories) && f->trajectories >= 1;
    } else if (value("cpu_batch", &v)) {
      ok = absl::SimpleAtoi(v, &f->cpu_batch);
    } else if (value("states_trajectories", &v)) {
      ok = absl::SimpleAtoi(v, &f->states_trajectories);
    } else if (value("t1", &v)) {
      ok = absl::SimpleAtod(v, &f->t1);
    } else if (value("dt", &v)) {
      ok = absl::SimpleAtod(v, &f->dt);
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "bad flag %s (see the comment at the top of reduce_bench.cc)\n",
                   argv[i]);
      return false;
    }
  }
  return true;
}

v1::SolveRequest Request(const Flags& f, const std::string& model, int64_t n, bool reduce) {
  v1::SolveRequest r;
  r.set_model_source(model);
  r.set_trajectories(n);
  v1::SolveOptions* o = r.mutable_options();
  o->set_algorithm(f.algorithm);
  o->set_adaptive(false);
  o->set_t1(f.t1);
  o->set_dt(f.dt);
  o->set_max_steps(static_cast<int64_t>(f.t1 / f.dt) + 10);
  v1::TimeRange* range = o->mutable_saveat()->mutable_range();
  range->set_stop(f.t1);
  range->set_step(f.save_points > 1 ? f.t1 / (f.save_points - 1) : f.t1);
  if (f.save_points == 1) range->set_start(f.t1);
  if (model == kStandIn) {
    r.mutable_params()->mutable_sampler()->set_seed(1);
    r.mutable_params()->mutable_sampler()->mutable_uniform()->add_lo(1);
    r.mutable_params()->mutable_sampler()->mutable_uniform()->add_hi(2);
  }
  if (reduce) {
    for (absl::string_view s : absl::StrSplit(f.statistics, ',')) {
      v1::Statistic st = v1::STATISTIC_UNSPECIFIED;
      if (s == "mean") st = v1::STATISTIC_MEAN;
      if (s == "var") st = v1::STATISTIC_VARIANCE;
      if (s == "min") st = v1::STATISTIC_MIN;
      if (s == "max") st = v1::STATISTIC_MAX;
      r.mutable_reductions()->add_statistics(st);
    }
  }
  return r;
}

struct Run {
  double seconds = 1e300;
  int64_t bytes = 0, messages = 0, trajectories = 0;
  std::string devices, error;
  double first_mean = 0, last_mean = 0;
};

Run Measure(Client& client, const v1::SolveRequest& req, int reps) {
  Run best;
  for (int i = 0; i < reps; ++i) {
    Run r;
    const absl::Time start = absl::Now();
    absl::Status s = client.SolveStream(req, [&](const v1::SolveResponse& m) {
      r.bytes += static_cast<int64_t>(m.ByteSizeLong());
      ++r.messages;
      if (m.has_summary()) {
        r.trajectories = m.summary().trajectories();
        for (const std::string& d : m.summary().devices()) absl::StrAppend(&r.devices, d, " ");
      }
      if (m.has_reduction() && m.reduction().final() && m.reduction().mean().data().size() >= 8) {
        const std::string& d = m.reduction().mean().data();
        std::memcpy(&r.first_mean, d.data(), 8);
        std::memcpy(&r.last_mean, d.data() + d.size() - 8, 8);
      }
      return absl::OkStatus();
    });
    r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    if (!s.ok()) {
      r.error = s.ToString();
      return r;
    }
    if (r.seconds < best.seconds) best = r;
  }
  return best;
}

std::string Bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", b, units[u]);
  return buf;
}

// The CPU backend: one batch of `count` solved plain, with mean and variance, and with a
// 100-bin histogram too; best of 5 each.
void CpuOverhead(const Flags& f, const std::string& text, int64_t count) {
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Parse(text);
  if (!model.ok()) return;
  std::unique_ptr<Backend> cpu = NewCpuBackend(f.threads);
  SolveOptions o;
  absl::StatusOr<Algorithm> a = ParseAlgorithm(f.algorithm);
  if (!a.ok()) return;
  o.algorithm = *a;
  o.adaptive = false;
  o.t1 = f.t1;
  o.dt = f.dt;
  o.max_steps = static_cast<int64_t>(f.t1 / f.dt) + 10;
  for (int i = 0; i < f.save_points; ++i) {
    o.saveat.push_back(f.save_points > 1 ? f.t1 * i / (f.save_points - 1) : f.t1);
  }
  if (!ValidateOptions(o).ok()) return;
  absl::StatusOr<std::unique_ptr<PreparedModel>> prepared = cpu->Prepare(**model, o);
  if (!prepared.ok()) return;
  SamplerSpec ss;
  ss.kind = SamplerKind::kUniform;
  ss.a.assign((*model)->num_params(), 1.0);
  ss.b.assign((*model)->num_params(), 2.0);
  absl::StatusOr<Sampler> sampler = Sampler::Create(ss, (*model)->num_params(), "sampler");
  if (!sampler.ok()) return;
  ReductionSpec moments;
  moments.num_save = f.save_points;
  moments.width = (*model)->num_states();
  ReductionSpec hist = moments;
  hist.bins = 100;
  for (int i = 0; i <= 100; ++i) hist.edges.push_back(0.1 + 0.2 * i);
  std::printf("\nCPU backend, one batch of %lld trajectories (%d threads), best of 5:\n\n",
              static_cast<long long>(count), f.threads);
  std::printf("| batch | ms | reduction's share |\n|---|---:|---:|\n");
  double plain = 0;
  const ReductionSpec* specs[] = {nullptr, &moments, &hist};
  for (const ReductionSpec* spec : specs) {
    double best = 1e300;
    for (int rep = 0; rep < 5; ++rep) {
      BatchInputs in;
      in.count = count;
      if ((*model)->num_params() > 0) in.p_sampler = &*sampler;
      in.reduction = spec;
      const absl::Time start = absl::Now();
      absl::StatusOr<BatchResult> r = cpu->Solve(**prepared, o, in);
      const double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
      if (!r.ok()) return;
      best = std::min(best, ms);
    }
    if (spec == nullptr) plain = best;
    std::printf(
        "| %s | %.2f | %s |\n",
        spec == nullptr    ? "states only"
        : spec == &moments ? "+ mean, variance, min, max"
                           : "+ histogram of 100 bins",
        best,
        spec == nullptr
            ? ""
            : absl::StrCat(static_cast<int>(100 * (best - plain) / best + 0.5), " %").c_str());
  }
}

int Main(int argc, char** argv) {
  Flags f;
  if (!Parse(argc, argv, &f)) return 2;
  std::string model = kStandIn;
  if (!f.model.empty()) {
    std::ifstream in(f.model);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", f.model.c_str());
      return 2;
    }
    model = ss.str();
  }
  std::unique_ptr<server::EnsolveServer> server;
  std::string target = f.target;
  if (target.empty()) {
    server::SetMinLogLevel(server::LogLevel::kWarning);
    server::ServerConfig c;
    c.address = "127.0.0.1:0";
    c.metrics_host = "127.0.0.1";
    c.metrics_port = 0;
    c.devices = f.devices;
    c.threads = f.threads;
    absl::StatusOr<std::unique_ptr<server::EnsolveServer>> s = server::EnsolveServer::Start(c);
    if (!s.ok()) {
      std::fprintf(stderr, "cannot start ensolved: %s\n", s.status().ToString().c_str());
      return 1;
    }
    server = *std::move(s);
    target = server->target();
  }
  std::unique_ptr<Client> client = Client::Connect(target);
  const int64_t n_states = std::min(f.trajectories, f.states_trajectories);
  std::printf("ensolve-reduce-bench: %s, %s, dt %g on [0, %g], %d save points, target %s\n",
              f.model.empty() ? "x' = mu*x (ODE stand-in)" : f.model.c_str(), f.algorithm.c_str(),
              f.dt, f.t1, f.save_points,
              f.target.empty() ? ("in-process " + f.devices).c_str() : f.target.c_str());
  const Run red = Measure(*client, Request(f, model, f.trajectories, true), f.reps);
  const Run full =
      n_states > 0 ? Measure(*client, Request(f, model, n_states, false), f.reps) : Run{};
  std::printf(
      "\n| request | trajectories | wall s | trajectories/s | bytes received | devices |\n");
  std::printf("|---|---:|---:|---:|---:|---|\n");
  auto row = [&](const char* what, const Run& r, int64_t n) {
    if (!r.error.empty()) {
      std::printf("| %s | %lld | failed: %s | | | |\n", what, static_cast<long long>(n),
                  r.error.c_str());
      return;
    }
    std::printf("| %s | %lld | %.3f | %.3g | %s | %s|\n", what, static_cast<long long>(n),
                r.seconds, static_cast<double>(n) / r.seconds,
                Bytes(static_cast<double>(r.bytes)).c_str(), r.devices.c_str());
  };
  row(absl::StrCat("statistics (", f.statistics, "), no states").c_str(), red, f.trajectories);
  if (n_states > 0) {
    row("full states", full, n_states);
    if (n_states < f.trajectories && full.error.empty()) {
      const double scale = static_cast<double>(f.trajectories) / static_cast<double>(n_states);
      std::printf("| full states, extrapolated | %lld | %.3f | | %s | |\n",
                  static_cast<long long>(f.trajectories), full.seconds * scale,
                  Bytes(static_cast<double>(full.bytes) * scale).c_str());
    }
  }
  if (f.cpu_batch > 0) CpuOverhead(f, model, f.cpu_batch);
  if (red.error.empty()) {
    std::printf("\nmean of the first quantity at the first and last save point: %.9g, %.9g\n",
                red.first_mean, red.last_mean);
  }
  return 0;
}

}  // namespace
}  // namespace ensolve

int main(int argc, char** argv) { return ensolve::Main(argc, argv); }
