// Forward sensitivities on the CPU backend: the cost of a sensitivity solve against the
// base model's, per method, for a small stiff model (Robertson, 3 states, 3 parameters:
// 12 states) and a larger one (a chain of 8 coupled decays with 4 parameters: 40 states).
// Prints a table (docs/sensitivities.md); asserts nothing.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/algorithms/table.h"
#include "engine/backend.h"
#include "engine/model/model.h"
#include "engine/model/sensitivity.h"
#include "engine/testing/robertson.h"

namespace ensolve {
namespace {

std::string Chain(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) absl::StrAppend(&s, "param k", i, " = ", 1.0 + i, "\n");
  for (int i = 0; i < n; ++i) absl::StrAppend(&s, "state u", i, " = ", i == 0 ? 1 : 0, "\n");
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&s, "u", i, "' = -k", i, "*u", i, "*(1 + 0.1*u", i, "^2)");
    if (i > 0) absl::StrAppend(&s, " + k", i - 1, "*u", i - 1);
    absl::StrAppend(&s, "\n");
  }
  return s;
}

double Seconds(Backend& cpu, const Model& m, const SolveOptions& o, int64_t count) {
  auto prepared = cpu.Prepare(m, o);
  if (!prepared.ok()) {
    std::fprintf(stderr, "%s\n", std::string(prepared.status().message()).c_str());
    return -1;
  }
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    auto r = cpu.Solve(**prepared, o, BatchInputs{count});
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r.ok() || r->retcodes[0] != RetCode::kSuccess) return -1;
    best = std::min(best, s);
  }
  return best;
}

void Row(Backend& cpu, Backend& dense, const char* name, const std::string& src,
         std::vector<int> params, double t1, int64_t count, std::vector<Algorithm> algorithms) {
  auto base = Model::Parse(src);
  auto sens = BuildSensitivityModel(**base, params);
  if (!sens.ok()) {
    std::fprintf(stderr, "%s\n", std::string(sens.status().message()).c_str());
    return;
  }
  for (Algorithm a : algorithms) {
    SolveOptions o;
    o.algorithm = a;
    o.t1 = t1;
    o.abstol = 1e-10;
    o.reltol = 1e-6;
    o.max_steps = 10000000;
    const double b = Seconds(cpu, **base, o, count), s = Seconds(cpu, **sens, o, count);
    const bool stiff = GetAlgorithmInfo(a).matrices > 0;
    char dense_cell[64] = "-";
    if (stiff) {
      const double d = Seconds(dense, **sens, o, count);
      std::snprintf(dense_cell, sizeof(dense_cell), "%.1f (%.1fx)", 1e6 * d / count, d / b);
    }
    std::printf("| %s | %d -> %d | %s | %.1f | %.1f (%.1fx) | %s |\n", name, (*base)->num_states(),
                (*sens)->num_states(), AlgorithmName(a), 1e6 * b / count, 1e6 * s / count, s / b,
                dense_cell);
  }
}

}  // namespace
}  // namespace ensolve

int main() {
  using namespace ensolve;
  std::unique_ptr<Backend> cpu = NewCpuBackend(1);
  setenv("ENSOLVE_CPU_DENSE_LU", "1", 1);  // the same backend with dense LU (cpu_backend.cc)
  std::unique_ptr<Backend> dense = NewCpuBackend(1);
  unsetenv("ENSOLVE_CPU_DENSE_LU");
  std::printf(
      "| model | states | method | base | with sensitivities, block LU | with sensitivities, "
      "dense LU |\n|---|---|---|---|---|---|\n");
  Row(*cpu, *dense, "Robertson, t to 1e2 (k1, k2, k3)", testing::kRobertson, {0, 1, 2}, 100, 256,
      {Algorithm::kRodas5P, Algorithm::kKvaerno5});
  Row(*cpu, *dense, "chain of 8, t to 10 (k0..k3)", Chain(8), {0, 1, 2, 3}, 10, 256,
      {Algorithm::kTsit5, Algorithm::kRodas5P, Algorithm::kKvaerno5});
  return 0;
}
