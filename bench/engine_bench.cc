// The CPU backend against hand-written, compiled Tsit5 solvers of the same models, in one run
// (so that every ratio compares times measured side by side):
//   - Lorenz, the ensemble of the DiffEqGPU paper (shared/acceptance/PROBLEMS.md, problem 2:
//     rho = linspace(0, 21, N), t in [0, 1]), against the vectorized ceiling
//     (structure-of-arrays blocks of 32 float32 / 16 float64 trajectories, -O3 -march=native,
//     bench/lorenz_ceiling_simd.cc) and the scalar one (one trajectory at a time);
//   - Lorenz-96 with 16 and 32 states (F = linspace(8, 10, N)) against the scalar ceiling.
// Fixed 1000 steps and adaptive (abstol = reltol = 1e-6), float32 and float64, one thread
// and all threads. Prints one Markdown table.
//
//   ensolve-engine-bench [--n=16384] [--n_wide=2048] [--reps=3] [--threads=0]
// ENSOLVE_CPU_ISA picks the CPU backend's instruction set (default: the widest).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/l96_ceiling.h"
#include "bench/lorenz_ceiling.h"
#include "engine/backend.h"
#include "engine/cpu/isa.h"
#include "engine/testing/lorenz.h"

namespace {

using namespace ensolve;

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

template <class F>
double BestOf(int reps, F&& f) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const auto a = std::chrono::steady_clock::now();
    f();
    best = std::min(best, Seconds(a, std::chrono::steady_clock::now()));
  }
  return best;
}

long Flag(int argc, char** argv, const char* name, long def) {
  const size_t len = std::strlen(name);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], name, len) == 0 && argv[i][len] == '=') {
      return std::atol(argv[i] + len + 1);
    }
  }
  return def;
}

std::string Rate(double traj_per_s) {
  if (traj_per_s <= 0) return "—";
  std::string s = absl::StrFormat("%.0f", traj_per_s);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(i, ",");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = Flag(argc, argv, "--n", 16384);
  const int64_t n_wide = Flag(argc, argv, "--n_wide", 2048);
  const int reps = static_cast<int>(Flag(argc, argv, "--reps", 3));
  int all = static_cast<int>(Flag(argc, argv, "--threads", 0));
  if (all <= 0) all = std::max(1u, std::thread::hardware_concurrency());

  absl::StatusOr<CpuIsa> isa = CpuIsaFromEnvironment();
  if (!isa.ok()) {
    std::fprintf(stderr, "%s\n", isa.status().ToString().c_str());
    return 1;
  }
  auto lorenz = Model::Parse(testing::kLorenz);
  auto l96_16 = Model::Parse(bench::L96Model(16));
  auto l96_32 = Model::Parse(bench::L96Model(32));
  if (!lorenz.ok() || !l96_16.ok() || !l96_32.ok()) {
    std::fprintf(stderr, "model: parse error\n");
    return 1;
  }
  std::vector<double> rho(n), lorenz_p(3 * n), forcing(n_wide);
  for (int64_t i = 0; i < n; ++i) {
    rho[i] = n > 1 ? 21.0 * i / (n - 1) : 0;
    lorenz_p[3 * i] = 10;
    lorenz_p[3 * i + 1] = rho[i];
    lorenz_p[3 * i + 2] = 8.0 / 3.0;
  }
  for (int64_t i = 0; i < n_wide; ++i) forcing[i] = 8 + (n_wide > 1 ? 2.0 * i / (n_wide - 1) : 0);

  std::printf(
      "CPU backend: %s (%d float32 / %d float64 lanes per pack); %u hardware threads; "
      "best of %d\n\n",
      CpuIsaName(*isa), CpuIsaLanes(*isa, Precision::kFloat32),
      CpuIsaLanes(*isa, Precision::kFloat64), std::thread::hardware_concurrency(), reps);
  std::printf(
      "| model | N | case | dtype | threads | ensolve traj/s | vectorized ceiling traj/s "
      "| scalar ceiling traj/s | ensolve / vectorized | ensolve / scalar | steps "
      "ensolve / ceiling | max abs diff |\n");
  std::printf("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");

  for (int threads : {1, all}) {
    if (threads == all && all == 1) continue;
    std::unique_ptr<Backend> cpu = NewCpuBackend(threads, *isa);
    for (int m = 0; m < 3; ++m) {
      const Model& model = m == 0 ? **lorenz : m == 1 ? **l96_16 : **l96_32;
      const int states = m == 0 ? 3 : m == 1 ? 16 : 32;
      const int64_t count = m == 0 ? n : n_wide;
      const std::vector<double>& params = m == 0 ? lorenz_p : forcing;
      const std::vector<double>& cpar = m == 0 ? rho : forcing;
      for (bool adaptive : {false, true}) {
        for (Precision p : {Precision::kFloat32, Precision::kFloat64}) {
          SolveOptions o;
          o.algorithm = Algorithm::kTsit5;
          o.precision = p;
          o.t1 = 1;
          o.adaptive = adaptive;
          o.dt = adaptive ? 0 : 1e-3;
          o.abstol = o.reltol = 1e-6;
          auto prepared = cpu->Prepare(model, o);
          if (!prepared.ok()) {
            std::fprintf(stderr, "%s\n", prepared.status().ToString().c_str());
            return 1;
          }
          const BatchInputs in{count, nullptr, 1, params.data(), count};
          absl::StatusOr<BatchResult> result;
          const double t_engine = BestOf(reps, [&] { result = cpu->Solve(**prepared, o, in); });
          if (!result.ok()) {
            std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
            return 1;
          }
          double steps_engine = 0;
          int64_t failed = 0;
          for (int64_t i = 0; i < count; ++i) {
            steps_engine += result->stats[i].accepted + result->stats[i].rejected;
            failed += result->retcodes[i] != RetCode::kSuccess;
          }
          steps_engine /= count;
          auto state = [&](int64_t i) {
            return p == Precision::kFloat32 ? double(result->states_f32[i]) : result->states_f64[i];
          };
          bench::CeilingOptions co;
          co.t1 = 1;
          co.adaptive = adaptive;
          co.dt = 1e-3;  // the fixed step, or the first step of an adaptive run
          co.tol = 1e-6;
          std::vector<float> out32(states * count);
          std::vector<double> out64(states * count);
          double diff = 0;
          auto compare = [&] {
            for (int64_t i = 0; i < states * count; ++i) {
              const double c = p == Precision::kFloat32 ? double(out32[i]) : out64[i];
              diff = std::max(diff, std::abs(c - state(i)));
            }
          };
          double t_simd = 0, steps_simd = 0;
          if (m == 0) {
            int64_t steps = 0;
            t_simd = BestOf(reps, [&] {
              steps = p == Precision::kFloat32 ? bench::SolveLorenzCeilingSimd<float>(
                                                     cpar.data(), count, co, threads, out32.data())
                                               : bench::SolveLorenzCeilingSimd<double>(
                                                     cpar.data(), count, co, threads, out64.data());
            });
            steps_simd = double(steps) / count;
            compare();
          }
          const double t_scalar = BestOf(reps, [&] {
            const bool f32 = p == Precision::kFloat32;
            if (m == 0 && f32) {
              bench::SolveLorenzCeiling<float>(cpar.data(), count, co, threads, out32.data());
            } else if (m == 0) {
              bench::SolveLorenzCeiling<double>(cpar.data(), count, co, threads, out64.data());
            } else if (m == 1 && f32) {
              bench::SolveL96Ceiling<16, float>(cpar.data(), count, co, threads, out32.data());
            } else if (m == 1) {
              bench::SolveL96Ceiling<16, double>(cpar.data(), count, co, threads, out64.data());
            } else if (f32) {
              bench::SolveL96Ceiling<32, float>(cpar.data(), count, co, threads, out32.data());
            } else {
              bench::SolveL96Ceiling<32, double>(cpar.data(), count, co, threads, out64.data());
            }
          });
          if (m != 0) compare();
          std::string steps = m == 0 ? absl::StrFormat("%.1f / %.1f", steps_engine, steps_simd)
                                     : absl::StrFormat("%.1f", steps_engine);
          if (failed > 0) steps += absl::StrFormat(" (%d not successful)", failed);
          std::printf("| %s | %lld | %s | %s | %d | %s | %s | %s | %s | %.2f× | %s | %.1e |\n",
                      m == 0   ? "Lorenz"
                      : m == 1 ? "Lorenz-96, 16 states"
                               : "Lorenz-96, 32 states",
                      static_cast<long long>(count),
                      adaptive ? "adaptive 1e-6" : "fixed 1000 steps", PrecisionName(p), threads,
                      Rate(count / t_engine).c_str(), m == 0 ? Rate(count / t_simd).c_str() : "—",
                      Rate(count / t_scalar).c_str(),
                      m == 0 ? absl::StrFormat("**%.2f×**", t_simd / t_engine).c_str() : "—",
                      t_scalar / t_engine, steps.c_str(), diff);
          std::fflush(stdout);
        }
      }
    }
  }
  std::printf(
      "\nratio = ceiling time / ensolve time (1 means as fast as the hand-written code); "
      "steps: accepted + rejected per trajectory\n");
  return 0;
}
