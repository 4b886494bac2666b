// A stiff ensemble on the GPU beside the CPU backend of the same host, in one call: Robertson
// with k1 on a grid over [0.02, 0.08] (drawn by the backend), t to 1e5, float64, adaptive
// abstol = reltol = 1e-6, final state only, for every stiff method of the algorithm table.
//
//   ensolve-stiff-bench [--min_log2=16] [--max_log2=20] [--cpu_max_log2=18] [--reps=3]
//
// Prints trajectories/s per backend and the speed-up, and checks the GPU's results against
// the CPU's on the sizes both ran (largest relative difference of the final states).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/algorithms/table.h"
#include "engine/backend.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/model/model.h"
#include "engine/sampler.h"

namespace {

using namespace ensolve;

constexpr char kRobertson[] =
    "state y1 = 1, y2 = 0, y3 = 0\nparam k1 = 0.04, k2 = 3e7, k3 = 1e4\n"
    "y1' = -k1*y1 + k3*y2*y3\ny2' = k1*y1 - k2*y2^2 - k3*y2*y3\ny3' = k2*y2^2\n";

int Flag(int argc, char** argv, const char* name, int def) {
  const size_t len = std::strlen(name);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], name, len) == 0 && argv[i][len] == '=') {
      return std::atoi(argv[i] + len + 1);
    }
  }
  return def;
}

struct Timed {
  double seconds = 1e300;
  BatchResult result;
};

Timed Run(Backend& b, const Model& m, const SolveOptions& o, const BatchInputs& in, int reps) {
  Timed t;
  auto prepared = b.Prepare(m, o);
  if (!prepared.ok()) {
    std::fprintf(stderr, "%s: prepare: %s\n", b.name().c_str(), prepared.status().ToString().c_str());
    std::exit(1);
  }
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    auto res = b.Solve(**prepared, o, in);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!res.ok()) {
      std::fprintf(stderr, "%s: %s\n", b.name().c_str(), res.status().ToString().c_str());
      std::exit(1);
    }
    if (s < t.seconds) {
      t.seconds = s;
      t.result = *std::move(res);
    }
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const int lo = Flag(argc, argv, "--min_log2", 16), hi = Flag(argc, argv, "--max_log2", 20);
  const int cpu_hi = Flag(argc, argv, "--cpu_max_log2", 18), reps = Flag(argc, argv, "--reps", 3);
  auto model = Model::Parse(kRobertson);
  if (!model.ok()) return 1;
  auto gpu = NewCudaBackend(0);
  if (!gpu.ok()) {
    std::printf("no GPU: %s\n", gpu.status().ToString().c_str());
    return 0;
  }
  std::unique_ptr<Backend> cpu = NewCpuBackend(0);
  std::printf("Robertson, k1 grid over [0.02, 0.08], t in [0, 1e5], float64, tol 1e-6\n");
  std::printf("%-13s %8s %8s %14s %14s %8s %10s %10s\n", "method", "N", "steps", "gpu traj/s",
              "cpu traj/s", "gpu/cpu", "max rel", "failed");
  for (int a = 0; a < kNumAlgorithms; ++a) {
    const AlgorithmInfo& info = AlgorithmTable()[a];
    if (!info.stiff) continue;
    SolveOptions o;
    o.algorithm = info.algorithm;
    o.precision = Precision::kFloat64;
    o.t1 = 1e5;
    o.abstol = o.reltol = 1e-6;
    for (int e = lo; e <= hi; e += 2) {
      const int64_t n = int64_t{1} << e;
      SamplerSpec spec{SamplerKind::kGrid, 0, {0.02, 3e7, 1e4}, {0.08, 3e7, 1e4}, {n, 1, 1}};
      auto sampler = Sampler::Create(spec, 3);
      if (!sampler.ok()) return 1;
      BatchInputs in{n};
      in.p_sampler = &*sampler;
      const Timed g = Run(**gpu, **model, o, in, reps);
      double cpu_rate = 0, worst = 0;
      if (e <= cpu_hi) {
        const Timed c = Run(*cpu, **model, o, in, 1);
        cpu_rate = n / c.seconds;
        for (int64_t i = 0; i < n; ++i) {
          for (int s = 0; s < 3; ++s) {
            const double want = c.result.state(i, 0, s);
            worst = std::max(worst, std::abs(g.result.state(i, 0, s) - want) /
                                        std::max(std::abs(want), 1e-8));
          }
        }
      }
      int64_t failed = 0, steps = 0;
      for (int64_t i = 0; i < n; ++i) {
        failed += g.result.retcodes[i] != RetCode::kSuccess;
        steps = std::max<int64_t>(steps, g.result.stats[i].accepted + g.result.stats[i].rejected);
      }
      const double gpu_rate = n / g.seconds;
      if (cpu_rate > 0) {
        std::printf("%-13s %8lld %8lld %14.0f %14.0f %8.1f %10.1e %10lld\n", info.name,
                    static_cast<long long>(n), static_cast<long long>(steps), gpu_rate, cpu_rate,
                    gpu_rate / cpu_rate, worst, static_cast<long long>(failed));
      } else {
        std::printf("%-13s %8lld %8lld %14.0f %14s %8s %10s %10lld\n", info.name,
                    static_cast<long long>(n), static_cast<long long>(steps), gpu_rate, "-", "-",
                    "-", static_cast<long long>(failed));
      }
      std::fflush(stdout);
    }
  }
  return 0;
}
