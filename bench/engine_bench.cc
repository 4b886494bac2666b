// The Lorenz ensemble of the DiffEqGPU paper (shared/acceptance/PROBLEMS.md, problem 2) on
// the CPU: ensolve's CPU backend (the model interpreted from its tape, W trajectories per
// pack) beside a hand-written, fully compiled Tsit5 for Lorenz on the same threads.
//
//   ensolve-engine-bench [--n=65536] [--reps=3] [--threads=0]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/lorenz_ceiling.h"
#include "engine/backend.h"
#include "engine/testing/lorenz.h"

namespace {

using ensolve::testing::kLorenz;

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

}  // namespace

int main(int argc, char** argv) {
  using namespace ensolve;
  const int64_t n = Flag(argc, argv, "--n", 65536);
  const int reps = static_cast<int>(Flag(argc, argv, "--reps", 3));
  int threads = static_cast<int>(Flag(argc, argv, "--threads", 0));
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());

  auto model = Model::Parse(kLorenz);
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<Backend> cpu = NewCpuBackend(threads);
  std::vector<double> rho(n), params(3 * n);
  for (int64_t i = 0; i < n; ++i) {
    rho[i] = n > 1 ? 21.0 * i / (n - 1) : 0;
    params[3 * i] = 10;
    params[3 * i + 1] = rho[i];
    params[3 * i + 2] = 8.0 / 3.0;
  }

  std::printf("Lorenz ensemble, N = %lld, t in [0, 1], %d threads, best of %d\n",
              static_cast<long long>(n), threads, reps);
  std::printf("%-18s %-8s %14s %14s %8s %12s\n", "case", "dtype", "ensolve traj/s",
              "ceiling traj/s", "ratio", "max |diff|");
  for (bool adaptive : {false, true}) {
    for (Precision p : {Precision::kFloat32, Precision::kFloat64}) {
      SolveOptions o;
      o.algorithm = Algorithm::kTsit5;
      o.precision = p;
      o.t1 = 1;
      o.adaptive = adaptive;
      o.dt = adaptive ? 0 : 1e-3;
      o.abstol = o.reltol = 1e-6;
      auto prepared = cpu->Prepare(**model, o);
      if (!prepared.ok()) return 1;
      const BatchInputs in{n, nullptr, 1, params.data(), n};
      absl::StatusOr<BatchResult> result;
      const double t_engine = BestOf(reps, [&] { result = cpu->Solve(**prepared, o, in); });
      if (!result.ok()) {
        std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
        return 1;
      }
      bench::CeilingOptions co;
      co.t1 = 1;
      co.adaptive = adaptive;
      co.dt = adaptive ? 1e-3 : 1e-3;
      co.tol = 1e-6;
      double t_ceiling, diff = 0;
      if (p == Precision::kFloat32) {
        std::vector<float> out(3 * n);
        t_ceiling = BestOf(reps, [&] {
          bench::SolveLorenzCeiling<float>(rho.data(), n, co, threads, out.data());
        });
        for (int64_t i = 0; i < 3 * n; ++i) {
          diff = std::max(diff, std::abs(double(out[i]) - result->states_f32[i]));
        }
      } else {
        std::vector<double> out(3 * n);
        t_ceiling = BestOf(reps, [&] {
          bench::SolveLorenzCeiling<double>(rho.data(), n, co, threads, out.data());
        });
        for (int64_t i = 0; i < 3 * n; ++i) {
          diff = std::max(diff, std::abs(out[i] - result->states_f64[i]));
        }
      }
      std::printf("%-18s %-8s %14.0f %14.0f %7.2fx %12.2e\n",
                  adaptive ? "adaptive 1e-6" : "fixed 1000 steps", PrecisionName(p), n / t_engine,
                  n / t_ceiling, t_ceiling / t_engine, diff);
    }
  }
  std::printf("ratio = ceiling time / ensolve time (>= 1 means ensolve is as fast)\n");
  return 0;
}
