// SolveOptions for the common test cases: a fixed-step and an adaptive solve from t0 = 0.
#ifndef ENSOLVE_ENGINE_TESTING_SOLVE_OPTIONS_H_
#define ENSOLVE_ENGINE_TESTING_SOLVE_OPTIONS_H_

#include "engine/solve_options.h"

namespace ensolve::testing {

inline SolveOptions Fixed(Algorithm a, double t1, double dt, Precision p) {
  SolveOptions o;
  o.algorithm = a;
  o.adaptive = false;
  o.t1 = t1;
  o.dt = dt;
  o.precision = p;
  return o;
}

// Tsit5 with abstol = reltol = tol.
inline SolveOptions Adaptive(double t1, double tol, Precision p) {
  SolveOptions o;
  o.t1 = t1;
  o.abstol = o.reltol = tol;
  o.precision = p;
  return o;
}

}  // namespace ensolve::testing

#endif  // ENSOLVE_ENGINE_TESTING_SOLVE_OPTIONS_H_
