// PI step-size control (Hairer & Wanner, "Solving ODEs II", IV.2; the constants are the ones
// DiffEqGPU.jl's GPU Tsit5 uses: β1 = 7/50, β2 = 2/25, qmax = 10, qmin = 1/5, γ = 9/10).
#ifndef ENSOLVE_ENGINE_ALGORITHMS_CONTROLLER_H_
#define ENSOLVE_ENGINE_ALGORITHMS_CONTROLLER_H_

#include "engine/algorithms/hd.h"

namespace ensolve::alg {

inline constexpr double kBeta1 = 7.0 / 50.0;
inline constexpr double kBeta2 = 2.0 / 25.0;
inline constexpr double kQmax = 10.0;
inline constexpr double kQmin = 0.2;
inline constexpr double kGamma = 0.9;
inline constexpr double kQoldInit = 1e-4;

// The step size after a step of size h with scaled error norm q (q <= 1 accepted). Updates
// qold (the previous accepted error) for accepted lanes. A non-finite q shrinks the step
// as much as allowed.
template <class S, class R, class M>
ENSOLVE_HD R NextStepSize(R q, R h, M accept, R& qold) {
  const R finite_q = Select(IsFinite(q), q, R(S(1e30)));
  const R q11 = Pow(finite_q, S(kBeta1));
  R fac = q11 / Pow(qold, S(kBeta2));
  fac = Max(R(S(1.0 / kQmax)), Min(R(S(1.0 / kQmin)), fac / S(kGamma)));
  const R hacc = h / fac;
  const R hrej = h / Min(R(S(1.0 / kQmin)), q11 / S(kGamma));
  qold = Select(accept, Max(finite_q, R(S(kQoldInit))), qold);
  return Select(accept, hacc, hrej);
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_CONTROLLER_H_
