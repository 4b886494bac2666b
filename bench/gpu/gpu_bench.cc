// ensolve-gpu-bench: the DiffEqGPU paper's Lorenz ensemble (rho = linspace(0, 21, N),
// t in [0, 1], u0 = (1, 0, 0)), Tsit5 fixed 1000 steps and adaptive 1e-6, float32 and
// float64, final state only, on the CUDA backend beside the hand-written ceiling kernel;
// small-request latency; and the speed-up over several GPUs. Prints a table; with
// --out=FILE also writes one TSV row per measurement (system, precision, mode, n, ms, note)
// for bench/gpu/report.py. Benchmarks print; they do not assert.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/gpu/ceiling.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/model/model.h"
#include "engine/sampler.h"
#include "engine/testing/lorenz.h"

namespace ensolve::bench {
namespace {

using ensolve::testing::kLorenz;

struct Flags {
  int min_log2 = 10, max_log2 = 23, reps = 5, latency_requests = 100;
  std::string ceiling = "bench/gpu/ceiling_lorenz.cu", out;
  bool multi_gpu = false, only_multi_gpu = false;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](const char* name) -> const char* {
      const size_t n = std::strlen(name);
      return a.compare(0, n, name) == 0 && a.size() > n && a[n] == '=' ? a.c_str() + n + 1
                                                                       : nullptr;
    };
    if (const char* v = val("--min_log2")) f.min_log2 = std::atoi(v);
    if (const char* v = val("--max_log2")) f.max_log2 = std::atoi(v);
    if (const char* v = val("--reps")) f.reps = std::atoi(v);
    if (const char* v = val("--latency_requests")) f.latency_requests = std::atoi(v);
    if (const char* v = val("--ceiling")) f.ceiling = v;
    if (const char* v = val("--out")) f.out = v;
    if (a == "--multi_gpu") f.multi_gpu = true;
    if (a == "--only_multi_gpu") f.multi_gpu = f.only_multi_gpu = true;
  }
  return f;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[v.size() / 2];
}
double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}
double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<double> LorenzParams(int64_t n, int64_t first = 0, int64_t total = -1) {
  if (total < 0) total = n;
  std::vector<double> p(3 * n);
  for (int64_t i = 0; i < n; ++i) {
    p[3 * i] = 10;
    p[3 * i + 1] = total > 1 ? 21.0 * (first + i) / (total - 1) : 0;
    p[3 * i + 2] = 8.0 / 3.0;
  }
  return p;
}

SolveOptions Options(Precision pr, bool adaptive) {
  SolveOptions o;
  o.algorithm = Algorithm::kTsit5;
  o.precision = pr;
  o.t0 = 0;
  o.t1 = 1;
  o.adaptive = adaptive;
  o.dt = adaptive ? 0 : 1e-3;
  o.abstol = o.reltol = 1e-6;
  return o;
}

class Tsv {
 public:
  explicit Tsv(const std::string& path) {
    if (!path.empty()) f_.open(path);
  }
  void Row(const char* system, Precision pr, bool adaptive, int64_t n, double ms,
           const std::string& note = "") {
    if (!f_.is_open()) return;
    f_ << system << '\t' << PrecisionName(pr) << '\t' << (adaptive ? "adaptive" : "fixed") << '\t'
       << n << '\t' << ms << '\t' << note << '\n';
    f_.flush();
  }

 private:
  std::ofstream f_;
};

absl::StatusOr<BatchResult> SolveOnce(CudaBackend& b, const Model& m, const SolveOptions& o,
                                      const std::vector<double>& p, int64_t n,
                                      const Sampler* sampler = nullptr) {
  auto prepared = b.Prepare(m, o);
  if (!prepared.ok()) return prepared.status();
  BatchInputs in{n, nullptr, 1, p.data(), n};
  if (sampler != nullptr) in.p_sampler = sampler;  // drawn on the device; p unused
  return b.Solve(**prepared, o, in);
}

// rho = linspace(0, 21, n) as ensolved's grid sampler draws it (what the e2e bench asks).
Sampler LorenzGrid(int64_t n) {
  return *Sampler::Create(
      SamplerSpec{SamplerKind::kGrid, 0, {10, 0, 8.0 / 3}, {10, 21, 8.0 / 3}, {1, n, 1}}, 3);
}

int SingleGpu(const Flags& f, const Model& model, Tsv& tsv) {
  auto backend = NewCudaBackend(0);
  if (!backend.ok()) {
    std::printf("no GPU backend: %s\n", backend.status().ToString().c_str());
    return 1;
  }
  CudaBackend& b = **backend;
  auto ceiling = CeilingKernel::Create(0, f.ceiling);
  if (!ceiling.ok())
    std::printf("ceiling kernel unavailable: %s\n", ceiling.status().ToString().c_str());

  // solve_ms: Solve() with rho as a float64 table in pageable memory (copied up);
  // sampled_ms: Solve() with rho from a grid sampler (drawn on the device). up_ms and
  // down_ms: the table's upload and the results' download within solve_ms.
  std::printf("\n%-8s %-9s %9s %10s %10s %10s %10s %7s %9s %6s %8s %8s\n", "prec", "mode", "N",
              "kernel_ms", "solve_ms", "sampled_ms", "ceil_ms", "k/ceil", "max_diff", "steps",
              "up_ms", "down_ms");
  for (Precision pr : {Precision::kFloat32, Precision::kFloat64}) {
    for (bool adaptive : {false, true}) {
      const SolveOptions o = Options(pr, adaptive);
      for (int lg = f.min_log2; lg <= f.max_log2; ++lg) {
        const int64_t n = int64_t{1} << lg;
        const std::vector<double> p = LorenzParams(n);
        const int reps = n < (1 << 16) ? 4 * f.reps : f.reps;
        std::vector<double> kernel, solve, sampled, ceil_ms, up, down;
        absl::StatusOr<BatchResult> r = SolveOnce(b, model, o, p, n);  // warm-up (compile)
        for (int k = 0; k < reps && r.ok(); ++k) {
          r = SolveOnce(b, model, o, p, n);
          kernel.push_back(b.last_timings().kernel_ms);
          solve.push_back(b.last_timings().total_ms);
          up.push_back(b.last_timings().upload_ms);
          down.push_back(b.last_timings().download_ms);
        }
        const Sampler grid = LorenzGrid(n);
        for (int k = 0; k <= reps && r.ok(); ++k) {
          absl::StatusOr<BatchResult> s = SolveOnce(b, model, o, p, n, &grid);
          if (!s.ok()) r = s.status();
          if (k > 0) sampled.push_back(b.last_timings().total_ms);
        }
        if (!r.ok()) {
          std::printf("solve failed: %s\n", r.status().ToString().c_str());
          return 1;
        }
        std::vector<double> ref;
        double diff = NAN;
        if (ceiling.ok()) {
          for (int k = 0; k <= reps; ++k) {
            auto ms = (*ceiling)->Run(pr, adaptive, p.data(), n, 1.0, 1e-3, 1e-6,
                                      k == 0 ? &ref : nullptr);
            if (!ms.ok()) {
              std::printf("ceiling failed: %s\n", ms.status().ToString().c_str());
              break;
            }
            if (k > 0) ceil_ms.push_back(*ms);
          }
          diff = 0;
          for (int64_t i = 0; i < n && !ref.empty(); ++i) {
            for (int s = 0; s < 3; ++s) {
              const double a = r->state(i, 0, s), c = ref[3 * i + s];
              diff = std::max(diff, std::abs(a - c) / (1 + std::abs(c)));
            }
          }
        }
        int64_t steps = 0;
        for (const TrajectoryStats& st : r->stats) steps = std::max<int64_t>(steps, st.accepted);
        const double km = Median(kernel), sm = Median(solve), cm = Median(ceil_ms);
        std::printf("%-8s %-9s %9lld %10.3f %10.3f %10.3f %10.3f %7.3f %9.2e %6lld %8.3f %8.3f\n",
                    PrecisionName(pr), adaptive ? "adaptive" : "fixed", static_cast<long long>(n),
                    km, sm, Median(sampled), cm, km / cm, diff, static_cast<long long>(steps),
                    Median(up), Median(down));
        tsv.Row("ensolve-kernel", pr, adaptive, n, km);
        tsv.Row("ensolve-solve", pr, adaptive, n, sm);
        tsv.Row("ensolve-solve-sampled", pr, adaptive, n, Median(sampled));
        tsv.Row("ensolve-upload", pr, adaptive, n, Median(up));
        tsv.Row("ensolve-download", pr, adaptive, n, Median(down));
        if (!ceil_ms.empty()) tsv.Row("ceiling", pr, adaptive, n, cm);
      }
    }
  }
  const CudaCompileStats cs = b.compile_stats();
  std::printf("\ncompile: %lld NVRTC compilations, %.3f s in total; module loads %.3f s\n",
              static_cast<long long>(cs.compiles), cs.compile_seconds, cs.load_seconds);

  // Small requests: 1,024 trajectories, warm (Prepare hits the cache), wall time per request.
  std::printf("\nsmall-request latency (1024 trajectories, %d requests, Prepare + Solve):\n",
              f.latency_requests);
  for (Precision pr : {Precision::kFloat32, Precision::kFloat64}) {
    for (bool adaptive : {false, true}) {
      const SolveOptions o = Options(pr, adaptive);
      const std::vector<double> p = LorenzParams(1024);
      std::vector<double> ms;
      for (int k = 0; k < f.latency_requests + 5; ++k) {
        const double t0 = NowMs();
        auto r = SolveOnce(b, model, o, p, 1024);
        if (!r.ok()) return 1;
        if (k >= 5) ms.push_back(NowMs() - t0);
      }
      const double p50 = Quantile(ms, 0.5), p99 = Quantile(ms, 0.99);
      std::printf("  %-8s %-9s p50 %.3f ms  p99 %.3f ms\n", PrecisionName(pr),
                  adaptive ? "adaptive" : "fixed", p50, p99);
      tsv.Row("latency-p50", pr, adaptive, 1024, p50);
      tsv.Row("latency-p99", pr, adaptive, 1024, p99);
    }
  }
  return 0;
}

// N = 2^max_log2 on one device, then split evenly over every device (one backend and one
// host thread each, as the server's device workers do); wall time of the whole ensemble.
int MultiGpu(const Flags& f, const Model& model, Tsv& tsv) {
  auto devices = ListCudaDevices();
  if (!devices.ok() || devices->size() < 2) {
    std::printf("\nmulti-GPU: skipped (%zu device(s))\n", devices.ok() ? devices->size() : 0);
    return 0;
  }
  const int nd = static_cast<int>(devices->size());
  std::vector<std::unique_ptr<CudaBackend>> backends;
  for (int k = 0; k < nd; ++k) {
    auto b = NewCudaBackend(k);
    if (!b.ok()) return 1;
    backends.push_back(*std::move(b));
  }
  const int64_t n = int64_t{1} << f.max_log2;
  std::printf("\nmulti-GPU, N = %lld in batches of 2^20, %d devices (median of %d):\n",
              static_cast<long long>(n), nd, f.reps);
  for (Precision pr : {Precision::kFloat32, Precision::kFloat64}) {
    for (bool adaptive : {false, true}) {
      const SolveOptions o = Options(pr, adaptive);
      // Wall time of the whole ensemble on `used` devices: batches of 2^20 trajectories
      // taken from one queue by one thread per device, as ensolved's device workers do
      // (work that varies along the ensemble, like adaptive steps over rho, stays
      // balanced). The inputs are made before the clock starts. Also the summed kernel
      // time of the busiest device.
      const std::vector<double> params = LorenzParams(n);
      const int64_t batch = std::min<int64_t>(n, int64_t{1} << 20);
      auto run = [&](int used, double* kernel_ms) {
        std::vector<double> walls, kernels;
        for (int rep = 0; rep <= f.reps; ++rep) {
          std::atomic<int64_t> next{0};
          std::vector<double> busy(used, 0.0);
          std::vector<std::thread> threads;
          const double t0 = NowMs();
          for (int k = 0; k < used; ++k) {
            threads.emplace_back([&, k] {
              auto prepared = backends[k]->Prepare(model, o);
              if (!prepared.ok()) return;
              for (int64_t first; (first = next.fetch_add(batch)) < n;) {
                const int64_t count = std::min(batch, n - first);
                auto r = backends[k]->Solve(
                    **prepared, o,
                    BatchInputs{count, nullptr, 1, params.data() + 3 * first, count});
                if (!r.ok()) std::printf("device %d: %s\n", k, r.status().ToString().c_str());
                busy[k] += backends[k]->last_timings().kernel_ms;
              }
            });
          }
          for (std::thread& t : threads) t.join();
          if (rep == 0) continue;
          walls.push_back(NowMs() - t0);
          kernels.push_back(*std::max_element(busy.begin(), busy.end()));
        }
        *kernel_ms = Median(kernels);
        return Median(walls);
      };
      double k1 = 0, kn = 0;
      const double one = run(1, &k1), all = run(nd, &kn);
      std::printf(
          "  %-8s %-9s wall: 1 GPU %8.2f ms, %d GPUs %8.2f ms, speed-up %.2fx;"
          "  kernel: %7.2f ms, %7.2f ms, speed-up %.2fx\n",
          PrecisionName(pr), adaptive ? "adaptive" : "fixed", one, nd, all, one / all, k1, kn,
          k1 / kn);
      tsv.Row("multi-1gpu", pr, adaptive, n, one);
      tsv.Row(nd == 2 ? "multi-2gpu" : "multi-ngpu", pr, adaptive, n, all, std::to_string(nd));
      tsv.Row("multi-kernel-1gpu", pr, adaptive, n, k1);
      tsv.Row(nd == 2 ? "multi-kernel-2gpu" : "multi-kernel-ngpu", pr, adaptive, n, kn);
    }
  }
  return 0;
}

int Main(int argc, char** argv) {
  const Flags f = ParseFlags(argc, argv);
  auto devices = ListCudaDevices();
  if (!devices.ok()) {
    std::printf("no GPU: %s\n", devices.status().ToString().c_str());
    return 0;
  }
  for (const GpuDeviceInfo& d : *devices) {
    std::printf("device %d: %s, %.1f GiB, sm_%d%d, %d SMs, %s\n", d.index, d.name.c_str(),
                d.total_memory_bytes / 1073741824.0, d.compute_capability_major,
                d.compute_capability_minor, d.multiprocessors, d.pci_bus_id.c_str());
  }
  auto model = Model::Parse(kLorenz);
  if (!model.ok()) return 1;
  Tsv tsv(f.out);
  if (!f.only_multi_gpu && SingleGpu(f, **model, tsv) != 0) return 1;
  if (f.multi_gpu) return MultiGpu(f, **model, tsv);
  return 0;
}

}  // namespace
}  // namespace ensolve::bench

int main(int argc, char** argv) { return ensolve::bench::Main(argc, argv); }
