// PI step-size control (Hairer & Wanner, "Solving ODEs II", IV.2). For a method of order p
// the gains are β1 = 7/(10p), β2 = 2/(5p) (OrdinaryDiffEq.jl's PI defaults; for Tsit5,
// p = 5, they are DiffEqGPU.jl's β1 = 7/50, β2 = 2/25), with qmax = 10, qmin = 1/5, γ = 9/10.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_CONTROLLER_H_
#define ENSOLVE_ENGINE_ALGORITHMS_CONTROLLER_H_

#include "engine/algorithms/hd.h"

namespace ensolve::alg {

inline constexpr double kQmax = 10.0;
inline constexpr double kQmin = 0.2;
inline constexpr double kGamma = 0.9;

// The step size after a step of size h with scaled error norm q (q <= 1 accepted). Updates
// qold (the previous accepted error) for accepted lanes. A non-finite q shrinks the step
// as much as allowed.
inline constexpr double kLogQoldInit = -9.210340371976184;  // log(1e-4)

// The step size after a step of size h with scaled error norm q (q <= 1 accepted):
//   accepted: h / clamp(q^β1 / qold^β2 / γ, 1/qmax, 1/qmin), and qold = max(q, 1e-4);
//   rejected: h / min(1/qmin, q^β1 / γ).
// A non-finite q shrinks the step as much as allowed. log_qold holds log(qold); the powers
// are float32 exp/log of it (LowExp, LowLog), the same on every backend.
// `order` is the method's; a compile-time constant on the GPU, where the gains fold.
template <class S, class R, class M>
ENSOLVE_HD R NextStepSize(R q, R h, M accept, R& log_qold, int order) {
  const S beta1 = S(7.0 / (10.0 * order));
  const S beta2 = S(2.0 / (5.0 * order));
  const R lq = LowLog(Select(IsFinite(q), q, R(S(1e30))));  // -inf for q = 0
  const R q11 = LowExp(beta1 * lq);
  const R fac = Max(R(S(1.0 / kQmax)),
                    Min(R(S(1.0 / kQmin)), LowExp(beta1 * lq - beta2 * log_qold) / S(kGamma)));
  const R hacc = h / fac;
  const R hrej = h / Min(R(S(1.0 / kQmin)), q11 / S(kGamma));
  log_qold = Select(accept, Max(lq, R(S(kLogQoldInit))), log_qold);
  return Select(accept, hacc, hrej);
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_CONTROLLER_H_
