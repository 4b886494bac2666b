// The smooth test problem of the one-trajectory driver's tests, with its exact solution:
// u1' = cos(t) u1 (u1 = exp(sin t)); u2' = -u3, u3' = u2 (u2 = cos t, u3 = sin t), and its
// exact Jacobian and time derivative (the latter nonzero, so methods that use it are tested
// on it).
#ifndef ENSOLVE_ENGINE_TESTING_OSCILLATOR_H_
#define ENSOLVE_ENGINE_TESTING_OSCILLATOR_H_

#include <cmath>

#include "engine/algorithms/scalar_context.h"

namespace ensolve::testing {

inline alg::ScalarContext<double>::Model Oscillator() {
  alg::ScalarContext<double>::Model m;
  m.rhs = [](double t, const double* u, double* du) {
    du[0] = std::cos(t) * u[0];
    du[1] = -u[2];
    du[2] = u[1];
  };
  m.jacobian = [](double t, const double*, double* J) {
    const double j[9] = {std::cos(t), 0, 0, 0, 0, -1, 0, 1, 0};
    for (int i = 0; i < 9; ++i) J[i] = j[i];
  };
  m.time_derivative = [](double t, const double* u, double* dT) {
    dT[0] = -std::sin(t) * u[0];
    dT[1] = dT[2] = 0;
  };
  return m;
}

inline double OscillatorExact(int i, double t) {
  return i == 0 ? std::exp(std::sin(t)) : i == 1 ? std::cos(t) : std::sin(t);
}

}  // namespace ensolve::testing

#endif  // ENSOLVE_ENGINE_TESTING_OSCILLATOR_H_
