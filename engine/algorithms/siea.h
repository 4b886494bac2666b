// SIE-A: Tang and Xiao's stochastic improved Euler method of weak order 2 for Itô SDEs with
// diagonal (or scalar) noise: X. Tang and A. Xiao, "Efficient weak second-order stochastic
// Runge–Kutta methods for Itô stochastic differential equations", BIT Numerical
// Mathematics 57 (2017) 241–260. The coefficients are those of its SIE-A variant as
// DiffEqGPU.jl's GPUSIEA and StochasticDiffEq.jl's SIEA use them (SIEAConstantCache):
//   alpha1 = alpha2 = 1/2, gamma1 = 1/2, lambda = (1/4, -1/4, 1/4), mu = (1/4, 1/4, -1/4),
//   mu0 = mubar0 = lambda0 = lambdabar0 = 1, nu1 = 1, nu2 = 0, beta2 = 1, beta3 = 0,
//   delta2 = -1, delta3 = 0
// (the zero coefficients' terms are left out below). With W2 = dW^2 / sqrt(h), per state:
//   k0 = f(t, u),  g0 = g(t, u)
//   k1 = f(t + h, u + h k0 + g0 dW)
//   g1 = g(t + h, u + h k0 + g0 sqrt(h)),  g2 = g(t + h, u + h k0 - g0 sqrt(h))
//   unew = u + h (k0 + k1) / 2 + g0 dW / 2 + g1 (dW - sqrt(h) + W2) / 4
//                                          + g2 (dW + sqrt(h) - W2) / 4
// Written with the n x m noise matrix: "g0 dW" is G0 dW, and "g0 sqrt(h)" is sqrt(h) times
// G0's row sums, which for diagonal noise (each state driven by at most one process, the
// table's diagonal_noise) is each state's own coefficient.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_SIEA_H_
#define ENSOLVE_ENGINE_ALGORITHMS_SIEA_H_

#include "engine/algorithms/hd.h"

namespace ensolve::alg {

struct SIEA {
  // k[0] = k0, k[1] = k1, k[2] = G0 dW; G[0..2] = g0, g1, g2.
  static constexpr int kOrder = 2;  // weak
  static constexpr int kEmbeddedOrder = 0;
  static constexpr bool kAdaptive = false;
  static constexpr bool kStiff = false;
  static constexpr bool kFsal = false;
  static constexpr int kFsalStage = 0;
  static constexpr int kStages = 2;  // right-hand side evaluations per step
  static constexpr int kDenseOrder = 1;
  static constexpr int kVectors = 3;
  static constexpr int kMatrices = 0;
  static constexpr bool kJacobian = false;
  static constexpr bool kTimeDerivative = false;
  static constexpr bool kStochastic = true;
  static constexpr int kNoiseMatrices = 3;
  static constexpr bool kDiagonalNoise = true;

  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Step(Ctx& c, R t, R h, R sqh, const R* u, R* unew, R* const* k,
                                      R* const* G, const R* dw) {
    using S = typename Ctx::Scalar;
    const int n = c.n(), m = c.num_wiener();
    R* k0 = k[0];
    R* k1 = k[1];
    R* gdw = k[2];
    c.Rhs(t, u, k0);
    c.Noise(t, u, G[0]);
    for (int i = 0; i < n; ++i) {
      R acc = R(S(0));
      for (int j = 0; j < m; ++j) acc = acc + G[0][i * m + j] * dw[j];
      gdw[i] = acc;
      unew[i] = u[i] + h * k0[i] + acc;
    }
    const R t1 = t + h;
    c.Rhs(t1, unew, k1);
    for (int sign = 1; sign >= -1; sign -= 2) {
      for (int i = 0; i < n; ++i) {
        R rows = R(S(0));
        for (int j = 0; j < m; ++j) rows = rows + G[0][i * m + j];
        const R shift = sign > 0 ? sqh * rows : -(sqh * rows);
        unew[i] = u[i] + h * k0[i] + shift;
      }
      c.Noise(t1, unew, G[sign > 0 ? 1 : 2]);
    }
    const S quarter = S(0.25), half = S(0.5);
    for (int i = 0; i < n; ++i) {
      R acc = u[i] + h * (half * k0[i] + half * k1[i]) + half * gdw[i];
      for (int j = 0; j < m; ++j) {
        const R w = dw[j];
        const R w2 = w * w / sqh;
        acc = acc + G[1][i * m + j] * (quarter * w - quarter * sqh + quarter * w2) +
              G[2][i * m + j] * (quarter * w + quarter * sqh - quarter * w2);
      }
      unew[i] = acc;
    }
  }
};

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_SIEA_H_
