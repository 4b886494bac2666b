// Work-precision data for every method of the algorithm table on the CPU backend: for each
// problem and tolerance, the achieved error against a reference, the right-hand side and
// Jacobian evaluations per trajectory, and the wall time per trajectory (an ensemble of
// identical trajectories on one thread, so the per-trajectory figure is the backend's
// sustained cost). bench/work_precision.py runs this beside scipy's solve_ivp and prints the
// table of docs/algorithms.md.
//
//   ensolve-wp-bench --ref=PROBLEM:v1,v2,... [--ref=...] [--n=64]
//
// Prints TSV: problem, method, tol, error, rhs_evals, jac_evals, steps, us_per_traj, retcode.
// The error is max_i |u_i - ref_i| / max(|ref_i|, floor) at the final time (floor: the
// problem's absolute scale, below which components count absolutely).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "engine/algorithms/table.h"
#include "engine/backend.h"
#include "engine/model/model.h"

namespace {

using namespace ensolve;

struct Problem {
  const char* name;
  const char* source;
  double t1;
  double floor;  // components below this are compared absolutely
  bool stiff;    // explicit methods are not run on it (a user would not)
};

const Problem kProblems[] = {
    {"lorenz",
     "state x = 1, y = 0, z = 0\nparam sigma = 10, rho = 28, beta = 8/3\n"
     "x' = sigma*(y - x)\ny' = x*(rho - z) - y\nz' = x*y - beta*z\n",
     2.0, 1.0, false},
    // Robertson's chemical kinetics (Hairer & Wanner II, IV.1, (1.4)).
    {"robertson",
     "state y1 = 1, y2 = 0, y3 = 0\nparam k1 = 0.04, k2 = 3e7, k3 = 1e4\n"
     "y1' = -k1*y1 + k3*y2*y3\ny2' = k1*y1 - k2*y2^2 - k3*y2*y3\ny3' = k2*y2^2\n",
     1e5, 1e-10, true},
    // Van der Pol, mu = 1000, to t = 3000, in the form of MATLAB's vdp1000 (Shampine &
    // Reichelt 1997): about one relaxation period.
    {"vanderpol", "param mu = 1000\nstate x = 2, y = 0\nx' = y\ny' = mu*(1 - x^2)*y - x\n",
     3000.0, 1e-3, true},
};

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::vector<double>> refs;
  int n = 64;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--ref=", 6) == 0) {
      const std::string spec = argv[i] + 6;
      const size_t colon = spec.find(':');
      std::vector<double> v;
      for (const char* p = spec.c_str() + colon + 1; *p != '\0';) {
        char* end = nullptr;
        v.push_back(std::strtod(p, &end));
        p = *end == ',' ? end + 1 : end;
      }
      refs[spec.substr(0, colon)] = v;
    } else if (std::strncmp(argv[i], "--n=", 4) == 0) {
      n = std::atoi(argv[i] + 4);
    }
  }
  std::unique_ptr<Backend> backend = NewCpuBackend(1);
  std::printf("problem\tmethod\ttol\terror\trhs_evals\tjac_evals\tsteps\tus_per_traj\tretcode\n");
  for (const Problem& pr : kProblems) {
    auto ref = refs.find(pr.name);
    if (ref == refs.end()) continue;
    auto model = Model::Parse(pr.source);
    if (!model.ok()) {
      std::fprintf(stderr, "%s: %s\n", pr.name, model.status().ToString().c_str());
      return 1;
    }
    for (int a = 0; a < kNumAlgorithms; ++a) {
      const AlgorithmInfo& info = AlgorithmTable()[a];
      if (!info.adaptive || (pr.stiff && !info.stiff)) continue;
      for (int e = 3; e <= 10; ++e) {
        SolveOptions o;
        o.algorithm = info.algorithm;
        o.t1 = pr.t1;
        o.abstol = o.reltol = std::pow(10.0, -e);
        o.max_steps = 2000000;
        auto prepared = backend->Prepare(**model, o);
        if (!prepared.ok()) return 1;
        const auto start = std::chrono::steady_clock::now();
        auto r = backend->Solve(**prepared, o, BatchInputs{n});
        const double s = Seconds(start, std::chrono::steady_clock::now());
        if (!r.ok()) {
          std::fprintf(stderr, "%s %s: %s\n", pr.name, info.name, r.status().ToString().c_str());
          return 1;
        }
        double err = 0;
        for (int i = 0; i < r->num_states; ++i) {
          const double want = ref->second[i];
          err = std::max(err, std::abs(r->state(0, 0, i) - want) / std::max(std::abs(want), pr.floor));
        }
        const TrajectoryStats st = r->stats[0];
        const int steps = st.accepted + st.rejected;
        std::printf("%s\t%s\t%.0e\t%.3e\t%d\t%d\t%d\t%.2f\t%s\n", pr.name, info.name, o.abstol, err,
                    st.rhs_evals, info.jacobian ? steps : 0, steps, 1e6 * s / n,
                    RetCodeName(r->retcodes[0]));
      }
    }
  }
  return 0;
}
