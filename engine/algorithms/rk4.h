// The classic fourth-order Runge-Kutta method, fixed step. Dense output uses the method's
// standard third-order continuous extension (Hairer, Norsett & Wanner, "Solving Ordinary
// Differential Equations I", 2nd ed., section II.6):
//   b1(θ) = θ - 3θ²/2 + 2θ³/3,  b2(θ) = b3(θ) = θ² - 2θ³/3,  b4(θ) = -θ²/2 + 2θ³/3.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_RK4_H_
#define ENSOLVE_ENGINE_ALGORITHMS_RK4_H_

#include "engine/algorithms/hd.h"

namespace ensolve::alg {

struct RK4 {
  // k[0..3] the stages, k[4] scratch.
  static constexpr int kOrder = 4;
  static constexpr int kEmbeddedOrder = 0;
  static constexpr bool kAdaptive = false;
  static constexpr bool kStiff = false;
  static constexpr bool kFsal = false;
  static constexpr int kFsalStage = 0;
  static constexpr int kStages = 4;
  static constexpr int kDenseOrder = 3;
  static constexpr int kVectors = 5;
  static constexpr int kMatrices = 0;
  static constexpr bool kJacobian = false;
  static constexpr bool kTimeDerivative = false;

  // k[0..3] hold the stages on return; k[4] is scratch. err is not written.
  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Step(Ctx& c, R t, R h, const R* u, R* unew, R* /*err*/,
                                      R* const* k, typename Ctx::Mask& /*fail*/) {
    using S = typename Ctx::Scalar;
    const int n = c.n();
    const R half = h * S(0.5);
    R* tmp = k[4];
    c.Rhs(t, u, k[0]);
    for (int i = 0; i < n; ++i) tmp[i] = u[i] + half * k[0][i];
    c.Rhs(t + half, tmp, k[1]);
    for (int i = 0; i < n; ++i) tmp[i] = u[i] + half * k[1][i];
    c.Rhs(t + half, tmp, k[2]);
    for (int i = 0; i < n; ++i) tmp[i] = u[i] + h * k[2][i];
    c.Rhs(t + h, tmp, k[3]);
    const R h6 = h * S(1.0 / 6.0);
    for (int i = 0; i < n; ++i) {
      unew[i] = u[i] + h6 * (k[0][i] + S(2) * (k[1][i] + k[2][i]) + k[3][i]);
    }
  }

  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Interpolate(Ctx& c, R /*t*/, R theta, R h, const R* u, R* const* k,
                                             R* y, bool /*first*/) {
    using S = typename Ctx::Scalar;
    const int n = c.n();
    const R th2 = theta * theta;
    const R th3 = th2 * theta;
    const R b1 = h * (theta - S(1.5) * th2 + S(2.0 / 3.0) * th3);
    const R b23 = h * (th2 - S(2.0 / 3.0) * th3);
    const R b4 = h * (S(-0.5) * th2 + S(2.0 / 3.0) * th3);
    for (int i = 0; i < n; ++i) {
      y[i] = u[i] + b1 * k[0][i] + b23 * (k[1][i] + k[2][i]) + b4 * k[3][i];
    }
  }
};

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_RK4_H_
