// Event models with analytic solutions, shared by the CPU and the GPU tests
// (../shared/acceptance/PROBLEMS.md problems 4 and 5).
#ifndef ENSOLVE_ENGINE_TESTING_EVENTS_H_
#define ENSOLVE_ENGINE_TESTING_EVENTS_H_

#include <cmath>
#include <vector>

#include "engine/batch.h"
#include "gtest/gtest.h"

namespace ensolve::testing {

// Problem 4: a ball dropped from 45 m, g = 10, bouncing with restitution e (1: elastic).
inline constexpr char kBouncingBall[] = R"(state h = 45, v = 0
param g = 10, e = 1
h' = v
v' = -g
when h crosses 0 down: v = -e*v
)";

// A ball bouncing on a ground whose height, like gravity, restitution and the drop height,
// is a parameter (the sensitivity tests: the crossing time moves with every parameter).
inline constexpr char kGroundBall[] = R"(param g = 9.81, e = 0.8, h0 = 5, ground = 0.5
state h = h0, v = 0
h' = v
v' = -g
when h - ground crosses 0 down: v = -e*v
)";

// (h, v) at t of kGroundBall for parameters q = (g, e, h0, ground) (t not a bounce), and
// the bounce times up to t into `bounces`.
inline std::vector<double> GroundBallAt(double t, const std::vector<double>& q,
                                        std::vector<double>* bounces = nullptr) {
  const double g = q[0], e = q[1], h0 = q[2], ground = q[3];
  double start = std::sqrt(2 * (h0 - ground) / g);  // the first bounce
  if (t < start) return {h0 - 0.5 * g * t * t, -g * t};
  double speed = g * start * e;  // just after the bounce at `start`
  if (bounces != nullptr) bounces->push_back(start);
  while (t >= start + 2 * speed / g && speed > 1e-9) {
    start += 2 * speed / g;
    speed *= e;
    if (bounces != nullptr) bounces->push_back(start);
  }
  const double s = t - start;
  return {ground + speed * s - 0.5 * g * s * s, speed - g * s};
}

// (h, v) at t of kBouncingBall (each bounce multiplies the speed by e; t not a bounce).
inline std::vector<double> BallAt(double t, double e = 1, double g = 10, double h0 = 45) {
  return GroundBallAt(t, {g, e, h0, 0});
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

// A ball whose restitution e (> 1: it gains speed; e moves halfway to 1 at each bounce)
// per trajectory, kicked up at t = 7 and 11.5, that terminates where it first rises through
// 60 m. Its peaks above 60 m sit inside one step of a method that integrates the parabola
// exactly (an error estimate of 0 lets the step grow to seconds), so the condition h - 60
// crosses and crosses back between the step's ends: events.h's interior samples find it.
inline constexpr char kRisingBall[] = R"(state h = 45, v = 0
param g = 10, e = 1
h' = v
v' = -g
when h crosses 0 down: v = -e*v, e = (1 + e)/2
at t = 7, 11.5: v = v + 1
when h - 60 crosses 0 up: terminate
)";

struct RisingBallEnd {
  bool terminated;
  double t;                   // the termination time, or t1
  std::vector<double> times;  // when each bounce and kick, and the terminating event, fire
};

// How kRisingBall from (h0, v0) with (g, e) ends by t1, in closed form flight by flight.
inline RisingBallEnd RisingBallOutcome(double h0, double v0, double g, double e, double t1) {
  double t = 0, h = h0, v = v0;
  const double kicks[] = {7, 11.5};
  int next_kick = 0;
  std::vector<double> times;
  while (true) {
    const double hit = (v + std::sqrt(v * v + 2 * g * h)) / g;  // the next bounce, from t
    const double kick = next_kick < 2 ? kicks[next_kick] - t : INFINITY;
    const double s = std::fmin(std::fmin(hit, kick), t1 - t);
    // Rising through 60 m within this flight: the smaller root of h + v r - g r^2 / 2 = 60.
    const double disc = v * v - 2 * g * (60 - h);
    if (h < 60 && v > 0 && disc >= 0) {
      const double r = (v - std::sqrt(disc)) / g;
      if (r <= s) {
        times.push_back(t + r);
        return {true, t + r, times};
      }
    }
    if (s == t1 - t) return {false, t1, times};
    h += v * s - 0.5 * g * s * s;
    v -= g * s;
    t += s;
    times.push_back(t);
    if (s == hit) {
      h = 0;
      v = -e * v;
      e = (1 + e) / 2;
    } else {
      v += 1;
      ++next_kick;
    }
  }
}

// The trajectories of a kRisingBall solve r (u0 and p interleaved per trajectory, as the
// solve read them, to t1) whose end differs from the closed form: terminated or not, the
// final time (to 1e-6), the events fired. The first `report` are added as test failures.
inline int RisingBallMismatches(const BatchResult& r, const std::vector<double>& u0,
                                const std::vector<double>& p, double t1, int report = 3) {
  int wrong = 0;
  for (int64_t k = 0; k < r.count; ++k) {
    const RisingBallEnd want =
        RisingBallOutcome(u0[2 * k], u0[2 * k + 1], p[2 * k], p[2 * k + 1], t1);
    const bool terminated = r.retcodes[k] == RetCode::kTerminated;
    if (terminated == want.terminated && r.events_fired[k] == static_cast<int>(want.times.size()) &&
        std::fabs(r.t_final[k] - want.t) <= 1e-6) {
      continue;
    }
    if (++wrong <= report) {
      ADD_FAILURE() << "trajectory " << k << ": terminated " << terminated << " at " << r.t_final[k]
                    << " after " << r.events_fired[k]
                    << " events; the closed form: " << want.terminated << " at " << want.t
                    << " after " << want.times.size();
    }
  }
  return wrong;
}

}  // namespace ensolve::testing

#endif  // ENSOLVE_ENGINE_TESTING_EVENTS_H_
