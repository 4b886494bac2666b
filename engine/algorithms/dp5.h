// Dormand-Prince 5(4) ("DOPRI5", RK5(4)7M): seven stages with first-same-as-last, an
// embedded fourth-order error estimate, and Shampine's free fourth-order interpolant. The
// default method of scipy's solve_ivp (RK45), MATLAB's ode45 and torchdiffeq.
//
// Coefficients: J. R. Dormand and P. J. Prince, "A family of embedded Runge-Kutta formulae",
// J. Comput. Appl. Math. 6 (1980) 19-26, the RK5(4)7M table; the same in E. Hairer,
// S. P. Norsett and G. Wanner, "Solving Ordinary Differential Equations I", 2nd ed.,
// Springer 1993, section II.5, Table 5.2 (p. 178) (c, A, b and b̂; e = b - b̂ below).
// Dense output: Hairer, Norsett & Wanner, section II.6, dense output of DOPRI5
// (pp. 191-192; both page numbers from memory of the printed book, not rechecked), which
// is L. F. Shampine's, "Some practical Runge-Kutta formulas", Math. Comp. 46 (1986)
// 135-150, as the authors' code dopri5.f evaluates it (CONTD5, with their d1, d3..d7):
//   u(t + θh) = u + θ Δ + θ(1-θ) (h k1 - Δ) + θ²(1-θ) (2Δ - h k1 - h k7)
//               + θ²(1-θ)² h (d1 k1 + d3 k3 + d4 k4 + d5 k5 + d6 k6 + d7 k7),
//   Δ = u_new - u = h Σ b_i k_i,
//   d1 = -12715105075/11282082432, d3 = 87487479700/32700410799,
//   d4 = -10690763975/1880347072,  d5 = 701980252875/199316789632,
//   d6 = -1453857185/822651844,    d7 = 69997945/29380423.
// Below, that polynomial is expanded (exactly, in rational arithmetic) into the weights
// b_i(θ) = Σ_p r_ip θ^(p+1) of each stage, then rounded to double: b_i(1) = b_i, and the
// b_i(θ) satisfy every order condition up to order 4 (Tableau.OrderConditions, methods_test).
#ifndef ENSOLVE_ENGINE_ALGORITHMS_DP5_H_
#define ENSOLVE_ENGINE_ALGORITHMS_DP5_H_

#include "engine/algorithms/explicit_rk.h"
#include "engine/algorithms/tableau.h"

namespace ensolve::alg {

struct DP5 : ExplicitRK<DP5> {
  // c = (0, 1/5, 3/10, 4/5, 8/9, 1, 1); A and b are the rationals of Table 5.2, e.g.
  // a21 = 1/5, a31 = 3/40, a32 = 9/40, ..., b = (35/384, 0, 500/1113, 125/192,
  // -2187/6784, 11/84, 0); e = b - b̂ = (71/57600, 0, -71/16695, 71/1920, -17253/339200,
  // 22/525, -1/40). Each entry is the double nearest to the rational.
  static constexpr ExplicitTableau<7> kTableau = {
      /*c=*/{0.0, 0.2, 0.3, 0.8, 0.8888888888888888, 1.0, 1.0},
      /*a=*/
      {{},
       {0.2},
       {0.075, 0.225},
       {0.9777777777777777, -3.7333333333333334, 3.5555555555555554},
       {2.9525986892242035, -11.595793324188385, 9.822892851699436, -0.2908093278463649},
       {2.8462752525252526, -10.757575757575758, 8.906422717743473, 0.2784090909090909,
        -0.2735313036020583},
       {0.09114583333333333, 0.0, 0.44923629829290207, 0.6510416666666666, -0.322376179245283,
        0.13095238095238096}},
      /*b=*/
      {0.09114583333333333, 0.0, 0.44923629829290207, 0.6510416666666666, -0.322376179245283,
       0.13095238095238096},
      /*e=*/
      {0.0012326388888888888, 0.0, -0.0042527702905061394, 0.03697916666666667,
       -0.05086379716981132, 0.0419047619047619, -0.025}};
  // No extra stages: the interpolant is free.
  static constexpr DenseTableau<7, 0, 4> kDense = {
      /*c=*/{0.0},
      /*a=*/{{}},
      /*r=*/
      {{1.0, -2.8535800653862835, 3.0717434641059005, -1.1270175653862835},
       {},
       {0.0, 4.023133379230305, -6.249321565289, 2.675424484351598},
       {0.0, -3.7324019615885042, 10.068970589843675, -5.685526961588504},
       {0.0, 2.5548038301849423, -6.399112377351017, 3.5219323679207912},
       {0.0, -1.3744241142186024, 3.272657752246729, -1.7672812570757455},
       {0.0, 1.3824689317781436, -3.764937863556287, 2.382468931778144}}};
  static constexpr int kExtraSlot[1] = {0};

  // k[0..6] the stages; k[6] = f(t + h, u_new).
  static constexpr int kOrder = 5;
  static constexpr int kEmbeddedOrder = 4;
  static constexpr bool kAdaptive = true;
  static constexpr bool kStiff = false;
  static constexpr bool kFsal = IsFsal(kTableau);
  static constexpr int kFsalStage = 6;
  static constexpr int kStages = NewEvaluations(kTableau);  // the seventh is reused
  static constexpr int kDenseOrder = 4;
  static constexpr int kVectors = VectorsFor(kDense, kExtraSlot);
  static constexpr int kMatrices = 0;
  static constexpr bool kJacobian = false;
  static constexpr bool kTimeDerivative = false;
  static_assert(SlotsAreSafe(kTableau, kDense, kExtraSlot));
};

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_DP5_H_
