// ensolve-e2e-bench: the Lorenz ensemble benchmark end to end, through a running ensolved
// and the C++ client on loopback: parameters drawn on the server by a grid sampler
// (rho = linspace(0, 21, N) exactly), results streamed back and reassembled. Prints a table
// and, with --out=FILE, TSV rows (system, precision, mode, n, ms, note) for report.py.
//
//   --batch_size=N   trajectories per batch (default 2^20)
//   --tag=NAME       the TSV rows' system name (default "e2e")
//   --overhead       the same shapes (3 states, 3 grid-sampled parameters, final state) with
//                    a right-hand side of zero and one Euler step: everything but the solve
//   --precisions=float32,float64  --modes=fixed,adaptive   subsets of the table
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "client/client.h"
#include "engine/testing/lorenz.h"

namespace {

using ensolve::testing::kLorenz;

// Lorenz's shapes with nothing to solve: what the service costs around a kernel.
constexpr char kZero[] = R"(state x = 1, y = 0, z = 0
param sigma = 10, rho = 28, beta = 8/3
x' = 0*sigma
y' = 0*rho
z' = 0*beta
)";

double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

ensolve::v1::SolveRequest Request(int64_t n, bool f32, bool adaptive, int64_t batch_size,
                                  bool overhead) {
  ensolve::v1::SolveRequest req;
  req.set_model_source(overhead ? kZero : kLorenz);
  req.set_trajectories(n);
  req.set_batch_size(batch_size);
  auto* o = req.mutable_options();
  o->set_algorithm("tsit5");
  o->set_precision(f32 ? ensolve::v1::PRECISION_FLOAT32 : ensolve::v1::PRECISION_FLOAT64);
  o->set_t0(0);
  o->set_t1(1);
  o->set_adaptive(adaptive);
  if (overhead) {
    o->set_algorithm("euler");
    o->set_adaptive(false);
    o->set_dt(1);
  } else if (adaptive) {
    o->set_abstol(1e-6);
    o->set_reltol(1e-6);
  } else {
    o->set_dt(1e-3);
  }
  auto* grid = req.mutable_params()->mutable_sampler()->mutable_grid();
  for (double v : {10.0, 0.0, 8.0 / 3.0}) grid->add_lo(v);
  for (double v : {10.0, 21.0, 8.0 / 3.0}) grid->add_hi(v);
  for (int64_t v : {int64_t{1}, n, int64_t{1}}) grid->add_points(v);
  return req;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = "127.0.0.1:50051", out, tag = "e2e";
  std::string precisions = "float32,float64", modes = "fixed,adaptive";
  bool overhead = false;
  int min_log2 = 10, max_log2 = 23, reps = 3, latency_requests = 100;
  int64_t batch_size = 1 << 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&](const char* name) -> const char* {
      const size_t n = std::strlen(name);
      return a.compare(0, n, name) == 0 && a.size() > n && a[n] == '=' ? a.c_str() + n + 1
                                                                       : nullptr;
    };
    if (const char* v = val("--server")) server = v;
    if (const char* v = val("--out")) out = v;
    if (const char* v = val("--min_log2")) min_log2 = std::atoi(v);
    if (const char* v = val("--max_log2")) max_log2 = std::atoi(v);
    if (const char* v = val("--reps")) reps = std::atoi(v);
    if (const char* v = val("--latency_requests")) latency_requests = std::atoi(v);
    if (const char* v = val("--batch_size")) batch_size = std::atoll(v);
    if (const char* v = val("--tag")) tag = v;
    if (const char* v = val("--precisions")) precisions = v;
    if (const char* v = val("--modes")) modes = v;
    if (a == "--overhead") overhead = true;
  }
  std::ofstream tsv;
  if (!out.empty()) tsv.open(out, std::ios::app);
  auto client = ensolve::Client::Connect(server);
  auto info = client->GetServerInfo();
  if (!info.ok()) {
    std::printf("e2e: no server at %s: %s\n", server.c_str(), info.status().ToString().c_str());
    return 1;
  }
  std::printf("e2e through ensolved at %s, batch_size %lld%s\n%s\n", server.c_str(),
              static_cast<long long>(batch_size),
              overhead ? ", overhead only (zero right-hand side, one Euler step)" : "",
              info->ShortDebugString().c_str());
  // wall: Client::Solve() (the median of --reps after a warm-up). Then one more call
  // through Client::SolveStream with the reassembly on the reading thread, timed inside:
  // when SolveAccepted and the first and last chunks arrive, and the time spent in
  // ResultAssembler::Add. solve: the server's batch time, summed.
  std::printf("%-8s %-9s %9s %9s | %9s %9s %9s %9s %9s | %9s %7s %s\n", "prec", "mode", "N",
              "wall_ms", "serial", "accept", "1st_chunk", "last_chunk", "reassembly", "solve_ms",
              "batches", "devices");
  for (bool f32 : {true, false}) {
    for (bool adaptive : {false, true}) {
      const char* prec = f32 ? "float32" : "float64";
      const char* mode = adaptive ? "adaptive" : "fixed";
      if (precisions.find(prec) == std::string::npos || modes.find(mode) == std::string::npos ||
          (overhead && adaptive)) {
        continue;
      }
      for (int lg = min_log2; lg <= max_log2; ++lg) {
        const int64_t n = int64_t{1} << lg;
        const auto req = Request(n, f32, adaptive, batch_size, overhead);
        std::vector<double> ms;
        ensolve::v1::SolveSummary summary;
        for (int k = 0; k <= reps; ++k) {
          const double t0 = NowMs();
          auto r = client->Solve(req);
          if (!r.ok()) {
            std::printf("e2e solve failed: %s\n", r.status().ToString().c_str());
            return 1;
          }
          if (k > 0) ms.push_back(NowMs() - t0);
          summary = r->summary;
        }
        ensolve::ResultAssembler assembler;
        double t_accept = 0, t_first = -1, t_last = 0, in_handler = 0;
        const double t0 = NowMs();
        absl::Status s = client->SolveStream(req, [&](const ensolve::v1::SolveResponse& r) {
          const double t = NowMs();
          if (r.has_accepted()) t_accept = t - t0;
          if (r.has_chunk()) {
            if (t_first < 0) t_first = t - t0;
            t_last = t - t0;
          }
          absl::Status added = assembler.Add(r);
          in_handler += NowMs() - t;
          return added;
        });
        const absl::StatusOr<ensolve::SolveResult> serial =
            s.ok() ? assembler.Take() : absl::StatusOr<ensolve::SolveResult>(s);
        const double serial_ms = NowMs() - t0;
        if (!serial.ok()) {
          std::printf("e2e solve failed: %s\n", serial.status().ToString().c_str());
          return 1;
        }
        const double wall = Quantile(ms, 0.5);
        std::string devices;
        for (const auto& d : summary.devices()) devices += d + " ";
        std::printf("%-8s %-9s %9lld %9.2f | %9.2f %9.2f %9.2f %9.2f %9.2f | %9.2f %7lld %s\n",
                    prec, mode, static_cast<long long>(n), wall, serial_ms, t_accept, t_first,
                    t_last, in_handler, summary.solve_seconds() * 1e3,
                    static_cast<long long>(summary.batches()), devices.c_str());
        if (tsv.is_open()) {
          tsv << tag << '\t' << prec << '\t' << mode << '\t' << n << '\t' << wall << '\t' << devices
              << '\n';
        }
      }
    }
  }
  for (bool adaptive : {false, true}) {
    if (latency_requests <= 0 || overhead) break;
    const auto req = Request(1024, true, adaptive, batch_size, false);
    std::vector<double> ms;
    for (int k = 0; k < latency_requests + 5; ++k) {
      const double t0 = NowMs();
      if (!client->Solve(req).ok()) return 1;
      if (k >= 5) ms.push_back(NowMs() - t0);
    }
    const char* mode = adaptive ? "adaptive" : "fixed";
    std::printf("e2e small request (1024, float32, %s): p50 %.3f ms p99 %.3f ms\n", mode,
                Quantile(ms, 0.5), Quantile(ms, 0.99));
    if (tsv.is_open()) {
      tsv << "e2e-latency-p50\tfloat32\t" << mode << "\t1024\t" << Quantile(ms, 0.5) << "\t\n";
      tsv << "e2e-latency-p99\tfloat32\t" << mode << "\t1024\t" << Quantile(ms, 0.99) << "\t\n";
    }
  }
  return 0;
}
