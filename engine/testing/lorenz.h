// The Lorenz system, the project's standard test and benchmark model, and an independent
// float64 reference solution for it (classic RK4 with a tiny step, compiled code, sharing
// nothing with the engine). Header-only; for tests and benchmarks.
#ifndef ENSOLVE_ENGINE_TESTING_LORENZ_H_
#define ENSOLVE_ENGINE_TESTING_LORENZ_H_

#include <cmath>
#include <vector>

namespace ensolve::testing {

inline constexpr char kLorenz[] = R"(# Lorenz
state x = 1, y = 0, z = 0
param sigma = 10, rho = 28, beta = 8/3
x' = sigma*(y - x)
y' = x*(rho - z) - y
z' = x*y - beta*z
)";

// kLorenz's right-hand side as a raw CUDA kernel (engine/model/raw_kernel.h), with states
// x, y, z and parameters sigma, rho, beta in that order: the same operations as the code
// generated from kLorenz.
inline constexpr char kRawLorenzRhs[] = R"(// Lorenz, by hand
__device__ void ModelRhs(R t, const R* __restrict__ u, const R* __restrict__ p,
                         R* __restrict__ du) {
  (void)t;
  du[0] = p[0] * (u[1] - u[0]);
  du[1] = u[0] * (p[1] - u[2]) - u[1];
  du[2] = u[0] * u[1] - p[2] * u[2];
}
)";

// The state at each of `times` (ascending, >= 0) from u0 = (1, 0, 0) with sigma = 10,
// beta = 8/3 and the given rho; RK4 with h = 1e-5.
inline std::vector<std::vector<double>> LorenzReference(double rho,
                                                        const std::vector<double>& times) {
  auto f = [rho](const double* u, double* du) {
    du[0] = 10.0 * (u[1] - u[0]);
    du[1] = u[0] * (rho - u[2]) - u[1];
    du[2] = u[0] * u[1] - (8.0 / 3.0) * u[2];
  };
  std::vector<std::vector<double>> out;
  double u[3] = {1, 0, 0}, k1[3], k2[3], k3[3], k4[3], tmp[3];
  const double h = 1e-5;
  long step = 0;
  for (double target : times) {
    for (const long steps = std::lround(target / h); step < steps; ++step) {
      f(u, k1);
      for (int i = 0; i < 3; ++i) tmp[i] = u[i] + 0.5 * h * k1[i];
      f(tmp, k2);
      for (int i = 0; i < 3; ++i) tmp[i] = u[i] + 0.5 * h * k2[i];
      f(tmp, k3);
      for (int i = 0; i < 3; ++i) tmp[i] = u[i] + h * k3[i];
      f(tmp, k4);
      for (int i = 0; i < 3; ++i) u[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
    out.push_back({u[0], u[1], u[2]});
  }
  return out;
}

}  // namespace ensolve::testing

#endif  // ENSOLVE_ENGINE_TESTING_LORENZ_H_
