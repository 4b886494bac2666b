// Explicit Euler: first order, fixed step. Dense output is the step's own straight line.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_EULER_H_
#define ENSOLVE_ENGINE_ALGORITHMS_EULER_H_

#include "engine/algorithms/hd.h"

namespace ensolve::alg {

struct Euler {
  // k[0] = f(t, u).
  static constexpr int kOrder = 1;
  static constexpr int kEmbeddedOrder = 0;
  static constexpr bool kAdaptive = false;
  static constexpr bool kStiff = false;
  static constexpr bool kFsal = false;
  static constexpr int kFsalStage = 0;
  static constexpr int kStages = 1;  // right-hand side evaluations per step
  static constexpr int kDenseOrder = 1;
  static constexpr int kVectors = 1;
  static constexpr int kMatrices = 0;
  static constexpr bool kJacobian = false;
  static constexpr bool kTimeDerivative = false;

  // k[0] = f(t, u) on return; unew = u + h k[0]. err is not written.
  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Step(Ctx& c, R t, R h, const R* u, R* unew, R* /*err*/,
                                      R* const* k, typename Ctx::Mask& /*fail*/) {
    const int n = c.n();
    c.Rhs(t, u, k[0]);
    for (int i = 0; i < n; ++i) unew[i] = u[i] + h * k[0][i];
  }

  // y = u(t + theta h), from the last step's data.
  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Interpolate(Ctx& c, R /*t*/, R theta, R h, const R* u, R* const* k,
                                             R* y, bool /*first*/) {
    const int n = c.n();
    const R th = theta * h;
    for (int i = 0; i < n; ++i) y[i] = u[i] + th * k[0][i];
  }
};

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_EULER_H_
