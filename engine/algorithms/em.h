// Euler–Maruyama for Itô SDEs du = f dt + g dW: weak order 1, strong order 1/2 (1 for
// additive noise); P. E. Kloeden and E. Platen, "Numerical Solution of Stochastic
// Differential Equations", Springer 1992, section 10.2. Fixed step, any noise matrix.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_EM_H_
#define ENSOLVE_ENGINE_ALGORITHMS_EM_H_

#include "engine/algorithms/hd.h"

namespace ensolve::alg {

struct EM {
  // k[0] = f(t, u); G[0] = g(t, u).
  static constexpr int kOrder = 1;  // weak
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
  static constexpr bool kStochastic = true;
  static constexpr int kNoiseMatrices = 1;
  static constexpr bool kDiagonalNoise = false;

  // unew = u + h f(t, u) + g(t, u) dw, with dw the step's Wiener increments (sqh = sqrt(h)).
  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Step(Ctx& c, R t, R h, R /*sqh*/, const R* u, R* unew, R* const* k,
                                      R* const* G, const R* dw) {
    const int n = c.n(), m = c.num_wiener();
    c.Rhs(t, u, k[0]);
    c.Noise(t, u, G[0]);
    for (int i = 0; i < n; ++i) {
      R acc = u[i] + h * k[0][i];
      for (int j = 0; j < m; ++j) acc = acc + G[0][i * m + j] * dw[j];
      unew[i] = acc;
    }
  }
};

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_EM_H_
