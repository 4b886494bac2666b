// TRBDF2: the trapezoidal rule to t + γh followed by BDF2 through t, t + γh, t + h, with
// γ = 2 - √2, written as the three-stage ESDIRK it is (L-stable, stiffly accurate, diagonal
// d = γ/2, one iteration matrix I - h d J for both stages), with Hosea & Shampine's
// third-order companion for the error estimate, filtered through (I - h d J)^{-1} as they
// do. The step, Newton iteration and dense output are esdirk.h's.
//
// R. E. Bank, W. M. Coughran, W. Fichtner, E. H. Grosse, D. J. Rose and R. K. Smith,
// "Transient simulation of silicon devices and circuits", IEEE Trans. CAD 4 (1985) 436-451;
// M. E. Hosea and L. F. Shampine, "Analysis and implementation of TR-BDF2", Appl. Numer.
// Math. 20 (1996) 21-37 (the ESDIRK form and its embedded pair; numbers as in
// OrdinaryDiffEq.jl's TRBDF2Tableau, which cites the same paper):
//   c = (0, γ, 1),  A = [0 0 0; d d 0; w w d],  b = (w, w, d),
//   b̂ = ((1 - w)/3, (3w + 1)/3, d/3),  d = 1 - √2/2,  w = √2/4,
// so e = b - b̂ = ((√2 - 1)/3, -1/3, (2 - √2)/3) (OrdinaryDiffEq.jl's TRBDF2Tableau carries
// the same with the opposite sign). Predictor, Shampine's as in OrdinaryDiffEq.jl:
// k2 ← k1, k3 ← -√2/2 k1 + (1 + √2/2) k2 (extrapolation of the slope to t + h).
//
// The interpolant is esdirk.h's cubic Hermite, whose O(h⁴) local error leaves the
// second-order solution's accuracy as it is (Hosea & Shampine use a cubic too).
#ifndef ENSOLVE_ENGINE_ALGORITHMS_TRBDF2_H_
#define ENSOLVE_ENGINE_ALGORITHMS_TRBDF2_H_

#include "engine/algorithms/esdirk.h"

namespace ensolve::alg {

struct Trbdf2Coefficients {
  static constexpr double kSqrt2 = 1.41421356237309504880168872420970;
  static constexpr double kD = 1.0 - kSqrt2 / 2.0;
  static constexpr double kW = kSqrt2 / 4.0;
  static constexpr EsdirkTableau<3> kTableau = {
      kD,
      {0.0, 2.0 - kSqrt2, 1.0},
      {{}, {kD}, {kW, kW}},
      {(kSqrt2 - 1.0) / 3.0, -1.0 / 3.0, (2.0 - kSqrt2) / 3.0},
      {{}, {1.0}, {-kSqrt2 / 2.0, 1.0 + kSqrt2 / 2.0}}};
};

struct Trbdf2 : Esdirk<Trbdf2Coefficients> {
  static constexpr int kOrder = 2;
  static constexpr int kEmbeddedOrder = 3;
  static constexpr int kDenseOrder = 2;  // capped at the method's order (table contract)
};

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_TRBDF2_H_
