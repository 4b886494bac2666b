// Kvaerno5: Kværnø's seven-stage ESDIRK 5(4), L-stable and stiffly accurate, with the
// embedded fourth-order solution of its sixth stage (c_6 = 1) for the error estimate. The
// step, Newton iteration and dense output are esdirk.h's.
//
// Coefficients: A. Kværnø, "Singly diagonally implicit Runge-Kutta methods with an explicit
// first stage", BIT Numer. Math. 44 (2004) 489-502, the seven-stage order-5 method with its
// order-4 embedding (γ = 0.26). The paper itself was not at hand (so no table number
// here): the coefficients are as tabulated to 17 digits, citing it, in diffrax
// (diffrax/_solver/kvaerno5.py, commit 5ea5fcb); methods_test
// checks the order conditions (order 5 for b, 4 for b̂) to 1e-12. b = row 7,
// b̂ = row 6. Predictor: diffrax's a_predictor for Kvaerno5 (from OrdinaryDiffEq.jl's
// Kvaerno5 perform_step, with k2 ← k1 in place of its zero α21); k7 ← row 6 of A with γ.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_KVAERNO5_H_
#define ENSOLVE_ENGINE_ALGORITHMS_KVAERNO5_H_

#include "engine/algorithms/esdirk.h"

namespace ensolve::alg {

struct Kvaerno5Coefficients {
  static constexpr double kGamma = 0.26;
  static constexpr double kA61 = 0.13855640231268224, kA62 = 0.0, kA63 = -0.04245337201752043,
                          kA64 = 0.02446657898003141, kA65 = 0.61943039072480676;
  static constexpr double kA71 = 0.13659751177640291, kA72 = 0.0, kA73 = -0.05496908796538376,
                          kA74 = -0.04118626728321046, kA75 = 0.62993304899016403,
                          kA76 = 0.06962479448202728;
  static constexpr EsdirkTableau<7> kTableau = {
      kGamma,
      {0.0, 0.52, 1.230333209967908, 0.8957659843500759, 0.43639360985864756, 1.0, 1.0},
      {{},
       {kGamma},
       {0.13, 0.84033320996790809},
       {0.22371961478320505, 0.47675532319799699, -0.06470895363112615},
       {0.16648564323248321, 0.10450018841591720, 0.03631482272098715, -0.13090704451073998},
       {kA61, kA62, kA63, kA64, kA65},
       {kA71, kA72, kA73, kA74, kA75, kA76}},
      // e = b - b̂ = row 7 - row 6
      {kA71 - kA61, kA72 - kA62, kA73 - kA63, kA74 - kA64, kA75 - kA65, kA76 - kGamma, kGamma},
      {{},
       {1.0},
       {-1.366025403784441, 2.3660254037844357},
       {-0.19650552613122207, 0.8113579546496623, 0.38514757148155954},
       {0.10375304369958693, 0.937994698066431, -0.04174774176601781, 0.0},
       {-0.17281112873898072, 0.6235784481025847, 0.5492326806363959, 0.0, 0.0},
       {kA61, kA62, kA63, kA64, kA65, kGamma}}};
};

struct Kvaerno5 : Esdirk<Kvaerno5Coefficients> {
  static constexpr int kOrder = 5;
  static constexpr int kEmbeddedOrder = 4;
};

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_KVAERNO5_H_
