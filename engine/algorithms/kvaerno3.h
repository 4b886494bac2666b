// Kvaerno3: Kværnø's four-stage ESDIRK 3(2), L-stable and stiffly accurate, with the
// embedded second-order solution of its third stage (c_3 = 1) for the error estimate. The
// step, Newton iteration and dense output are esdirk.h's.
//
// Coefficients: A. Kværnø, "Singly diagonally implicit Runge-Kutta methods with an explicit
// first stage", BIT Numer. Math. 44 (2004) 489-502, the four-stage order-3 method with its
// order-2 embedding. The paper itself was not at hand (so no table number here): the
// coefficients are the closed forms in γ that diffrax tabulates citing it
// (diffrax/_solver/kvaerno3.py, commit 5ea5fcb), and agree with OrdinaryDiffEq.jl's
// Kvaerno3Tableau to the ten digits of its rounded γ:
//   a21 = γ,  a31 = (-4γ² + 6γ - 1) / (4γ),  a32 = (1 - 2γ) / (4γ),
//   a41 = (6γ - 1) / (12γ),  a42 = -1 / ((24γ - 12) γ),  a43 = (-6γ² + 6γ - 1) / (6γ - 3),
//   c = (0, 2γ, 1, 1),  b = row 4,  b̂ = row 3,
// with γ = 0.435866521508459, the root in (0, 1) of 6γ³ - 18γ² + 9γ - 1 = 0 (diffrax and
// OrdinaryDiffEq.jl round it to 0.4358665215). The values below are
// those formulas evaluated in 30-digit arithmetic; methods_test checks the order conditions.
// Predictor (diffrax's a_predictor for Kvaerno3): k2 ← k1; k3 ← (1 - θ) k1 + θ k2 with
// θ = 1 / (2γ) (linear extrapolation of the slope from c = 0, 2γ to 1); k4 ← a31 k1 + a32 k2
// + γ k3.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_KVAERNO3_H_
#define ENSOLVE_ENGINE_ALGORITHMS_KVAERNO3_H_

#include "engine/algorithms/esdirk.h"

namespace ensolve::alg {

struct Kvaerno3Coefficients {
  static constexpr double kGamma = 0.43586652150845899942;
  static constexpr double kA31 = 0.49056338842178057063;
  static constexpr double kA32 = 0.073570090069760429956;
  static constexpr double kA41 = 0.30880996997674652335;
  static constexpr double kA42 = 1.4905633884217805706;
  static constexpr double kA43 = -1.2352398799069860934;
  static constexpr double kTheta = 1.1471401801395208599;  // 1 / (2γ)
  static constexpr EsdirkTableau<4> kTableau = {
      kGamma,
      {0.0, 2.0 * kGamma, 1.0, 1.0},
      {{}, {kGamma}, {kA31, kA32}, {kA41, kA42, kA43}},
      // e = b - b̂ = row 4 - row 3
      {kA41 - kA31, kA42 - kA32, kA43 - kGamma, kGamma},
      {{}, {1.0}, {1.0 - kTheta, kTheta}, {kA31, kA32, kGamma}}};
};

struct Kvaerno3 : Esdirk<Kvaerno3Coefficients> {
  static constexpr int kOrder = 3;
  static constexpr int kEmbeddedOrder = 2;
};

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_KVAERNO3_H_
