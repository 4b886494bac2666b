// Event models with analytic solutions, shared by the CPU and the GPU tests
// (../shared/acceptance/PROBLEMS.md problems 4 and 5).
#ifndef ENSOLVE_ENGINE_TESTING_EVENTS_H_
#define ENSOLVE_ENGINE_TESTING_EVENTS_H_

#include <cmath>
#include <vector>

namespace ensolve::testing {

// Problem 4: a ball dropped from 45 m, g = 10, bouncing with restitution e (1: elastic).
inline constexpr char kBouncingBall[] = R"(state h = 45, v = 0
param g = 10, e = 1
h' = v
v' = -g
when h crosses 0 down: v = -e*v
)";

// (h, v) at t of the ball above (each bounce multiplies the speed by e; t not a bounce).
inline std::vector<double> BallAt(double t, double e = 1, double g = 10, double h0 = 45) {
  double tb = std::sqrt(2 * h0 / g);  // the first bounce
  if (t < tb) return {h0 - 0.5 * g * t * t, -g * t};
  double speed = g * tb * e;  // just after the bounce at tb
  while (t >= tb + 2 * speed / g) {
    tb += 2 * speed / g;
    speed *= e;
  }
  const double s = t - tb;
  return {speed * s - 0.5 * g * s * s, speed - g * s};
}

// Problem 5: decay with kicks at t = 2.4 and 4.
inline constexpr char kKicks[] = R"(state u = 10
u' = -u
at t = 2.4, 4: u = u + 10
)";

// u(t) of the model above; a kick's time gives the value just before it (the left limit).
inline double KicksAt(double t) {
  double u = 10 * std::exp(-std::fmin(t, 2.4));
  if (t <= 2.4) return u;
  u = (u + 10) * std::exp(-(std::fmin(t, 4.0) - 2.4));
  if (t <= 4) return u;
  return (u + 10) * std::exp(-(t - 4));
}

}  // namespace ensolve::testing

#endif  // ENSOLVE_ENGINE_TESTING_EVENTS_H_
