// Rosenbrock23: the L-stable second-order Rosenbrock (W-) method of MATLAB's ode23s, with
// an embedded third-order formula for the error estimate and a free second-order dense
// output. With the exact Jacobian J = df/du and T = df/dt, W = I - h d J and
//   W k1 = f(t, u) + h d T
//   W k2 = f(t + h/2, u + h/2 k1) - k1,  k2 += k1,  u_new = u + h k2
//   W k3 = f(t + h, u_new) - e32 (k2 - f1) - 2 (k1 - f0) + h d T
//   err = h/6 (k1 - 2 k2 + k3),  d = 1/(2 + sqrt 2),  e32 = 6 + sqrt 2.
// Dense output: u(t + θh) = u + h (θ(1-θ)/(1-2d) k1 + θ(θ-2d)/(1-2d) k2).
//
// L. F. Shampine and M. W. Reichelt, "The MATLAB ODE Suite", SIAM J. Sci. Comput. 18 (1997)
// 1-22, section 3.1 (the formulas above) and section 3.2 (the interpolant).
#ifndef ENSOLVE_ENGINE_ALGORITHMS_ROSENBROCK23_H_
#define ENSOLVE_ENGINE_ALGORITHMS_ROSENBROCK23_H_

#include "engine/algorithms/hd.h"
#include "engine/algorithms/linsolve.h"

namespace ensolve::alg {

struct Rosenbrock23 {
  static constexpr int kOrder = 2;
  static constexpr int kEmbeddedOrder = 3;
  static constexpr bool kAdaptive = true;
  static constexpr bool kStiff = true;
  static constexpr bool kFsal = true;  // f(t + h, u_new) is the next step's f0
  static constexpr int kFsalStage = 5;
  static constexpr int kStages = 2;  // new f evaluations per step (plus J and T once)
  static constexpr int kDenseOrder = 2;
  // k[0] f0, k[1..3] k1..k3, k[4] f1, k[5] f2, k[6] T.
  static constexpr int kVectors = 7;
  static constexpr int kMatrices = 1;
  static constexpr bool kJacobian = true;
  static constexpr bool kTimeDerivative = true;

  static constexpr double kD = 0.29289321881345247559915563789515;   // 1 / (2 + sqrt 2)
  static constexpr double kE32 = 7.4142135623730950488016887242097;  // 6 + sqrt 2

  // On entry k[0] = f(t, u). `fail` gains the lanes whose W is singular.
  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Step(Ctx& c, R t, R h, const R* u, R* unew, R* err, R* const* k,
                                      typename Ctx::Mask& fail) {
    using S = typename Ctx::Scalar;
    const int n = c.n();
    R* const f0 = k[0];
    R* const k1 = k[1];
    R* const k2 = k[2];
    R* const k3 = k[3];
    R* const f1 = k[4];
    R* const f2 = k[5];
    R* const dT = k[6];
    R* const w = c.mat(0);
    const R hd = h * S(kD);
    c.Jacobian(t, u, w);
    c.TimeDerivative(t, u, dT);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) w[i * n + j] = -hd * w[i * n + j];
      w[i * n + i] = w[i * n + i] + S(1);
    }
    fail = fail | LuFactor(c, w, c.pivots());
    for (int i = 0; i < n; ++i) k1[i] = f0[i] + hd * dT[i];
    LuSolve(c, w, c.pivots(), k1);
    const R half = h * S(0.5);
    for (int i = 0; i < n; ++i) err[i] = u[i] + half * k1[i];
    c.Rhs(t + half, err, f1);
    for (int i = 0; i < n; ++i) k2[i] = f1[i] - k1[i];
    LuSolve(c, w, c.pivots(), k2);
    for (int i = 0; i < n; ++i) {
      k2[i] = k2[i] + k1[i];
      unew[i] = u[i] + h * k2[i];
    }
    c.Rhs(t + h, unew, f2);
    for (int i = 0; i < n; ++i) {
      k3[i] = f2[i] - S(kE32) * (k2[i] - f1[i]) - S(2) * (k1[i] - f0[i]) + hd * dT[i];
    }
    LuSolve(c, w, c.pivots(), k3);
    const R h6 = h * S(1.0 / 6.0);
    for (int i = 0; i < n; ++i) err[i] = h6 * (k1[i] - S(2) * k2[i] + k3[i]);
  }

  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Interpolate(Ctx& c, R /*t*/, R theta, R h, const R* u, R* const* k,
                                             R* y, bool /*first*/) {
    using S = typename Ctx::Scalar;
    const int n = c.n();
    const S inv = S(1.0 / (1.0 - 2.0 * kD));
    const R b1 = h * theta * (S(1) - theta) * inv;
    const R b2 = h * theta * (theta - S(2.0 * kD)) * inv;
    for (int i = 0; i < n; ++i) y[i] = u[i] + b1 * k[1][i] + b2 * k[2][i];
  }
};

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_ROSENBROCK23_H_
