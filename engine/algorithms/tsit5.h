// Tsitouras 5(4): seven stages with first-same-as-last, an embedded fourth-order error
// estimate, and a free fourth-order interpolant.
//
// Coefficients: Ch. Tsitouras, "Runge-Kutta pairs of order 5(4) satisfying only the first
// column simplifying assumption", Computers & Mathematics with Applications 62 (2011)
// 770-775, Table 1; the error weights (b - b̂) and the expanded interpolation polynomials
// b_i(θ) = r_i1 θ + r_i2 θ² + r_i3 θ³ + r_i4 θ⁴ as tabulated in OrdinaryDiffEq.jl
// (tsit_tableaus.jl, Tsit5ConstantCache and Tsit5Interp).
#ifndef ENSOLVE_ENGINE_ALGORITHMS_TSIT5_H_
#define ENSOLVE_ENGINE_ALGORITHMS_TSIT5_H_

#include "engine/algorithms/hd.h"
#include "engine/algorithms/tableau.h"

namespace ensolve::alg {

struct Tsit5 {
  // The tableau (Tsitouras 2011, Table 1; e = b - b̂). Step() below is its hand-unrolled form
  // (checked against this data by tableau_test.cc); stage count and FSAL derive from it.
  static constexpr ExplicitTableau<7> kTableau = {
      {0.0, 0.161, 0.327, 0.9, 0.9800255409045097, 1.0, 1.0},
      {{},
       {0.161},
       {-0.008480655492356989, 0.335480655492357},
       {2.8971530571054935, -6.359448489975075, 4.3622954328695815},
       {5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525},
       {5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401,
        -0.028269050394068383},
       {0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081,
        2.324710524099774}},
      {0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081,
       2.324710524099774, 0.0},
      {-0.00178001105222577714, -0.0008164344596567469, 0.007880878010261995, -0.1447110071732629,
       0.5823571654525552, -0.45808210592918697, 1.0 / 66.0}};

  // k[0..6] the stages; k[6] = f(t + h, u_new).
  static constexpr int kOrder = 5;
  static constexpr int kEmbeddedOrder = 4;
  static constexpr bool kAdaptive = true;
  static constexpr bool kStiff = false;
  static constexpr bool kFsal = IsFsal(kTableau);
  static constexpr int kFsalStage = 6;
  static constexpr int kStages = NewEvaluations(kTableau);  // the seventh is reused
  static constexpr int kDenseOrder = 4;
  static constexpr int kVectors = 7;
  static constexpr int kMatrices = 0;
  static constexpr bool kJacobian = false;
  static constexpr bool kTimeDerivative = false;

  // On entry k[0] = f(t, u) (first same as last). On return k[0..6] hold the stages,
  // k[6] = f(t + h, unew), and err = h Σ (b_i - b̂_i) k_i. err doubles as stage scratch.
  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Step(Ctx& c, R t, R h, const R* u, R* unew, R* err, R* const* k,
                                      typename Ctx::Mask& /*fail*/) {
    using S = typename Ctx::Scalar;
    const int n = c.n();
    const S c2 = S(0.161), c3 = S(0.327), c4 = S(0.9), c5 = S(0.9800255409045097);
    const S a21 = S(0.161);
    const S a31 = S(-0.008480655492356989), a32 = S(0.335480655492357);
    const S a41 = S(2.8971530571054935), a42 = S(-6.359448489975075), a43 = S(4.3622954328695815);
    const S a51 = S(5.325864828439257), a52 = S(-11.748883564062828), a53 = S(7.4955393428898365),
            a54 = S(-0.09249506636175525);
    const S a61 = S(5.86145544294642), a62 = S(-12.92096931784711), a63 = S(8.159367898576159),
            a64 = S(-0.071584973281401), a65 = S(-0.028269050394068383);
    const S a71 = S(0.09646076681806523), a72 = S(0.01), a73 = S(0.4798896504144996),
            a74 = S(1.379008574103742), a75 = S(-3.290069515436081), a76 = S(2.324710524099774);
    const S e1 = S(-0.00178001105222577714), e2 = S(-0.0008164344596567469),
            e3 = S(0.007880878010261995), e4 = S(-0.1447110071732629), e5 = S(0.5823571654525552),
            e6 = S(-0.45808210592918697), e7 = S(1.0 / 66.0);
    R* tmp = err;
    for (int i = 0; i < n; ++i) tmp[i] = u[i] + h * (a21 * k[0][i]);
    c.Rhs(t + c2 * h, tmp, k[1]);
    for (int i = 0; i < n; ++i) tmp[i] = u[i] + h * (a31 * k[0][i] + a32 * k[1][i]);
    c.Rhs(t + c3 * h, tmp, k[2]);
    for (int i = 0; i < n; ++i) {
      tmp[i] = u[i] + h * (a41 * k[0][i] + a42 * k[1][i] + a43 * k[2][i]);
    }
    c.Rhs(t + c4 * h, tmp, k[3]);
    for (int i = 0; i < n; ++i) {
      tmp[i] = u[i] + h * (a51 * k[0][i] + a52 * k[1][i] + a53 * k[2][i] + a54 * k[3][i]);
    }
    c.Rhs(t + c5 * h, tmp, k[4]);
    for (int i = 0; i < n; ++i) {
      tmp[i] = u[i] +
               h * (a61 * k[0][i] + a62 * k[1][i] + a63 * k[2][i] + a64 * k[3][i] + a65 * k[4][i]);
    }
    const R t1 = t + h;
    c.Rhs(t1, tmp, k[5]);
    for (int i = 0; i < n; ++i) {
      unew[i] = u[i] + h * (a71 * k[0][i] + a72 * k[1][i] + a73 * k[2][i] + a74 * k[3][i] +
                            a75 * k[4][i] + a76 * k[5][i]);
    }
    c.Rhs(t1, unew, k[6]);
    for (int i = 0; i < n; ++i) {
      err[i] = h * (e1 * k[0][i] + e2 * k[1][i] + e3 * k[2][i] + e4 * k[3][i] + e5 * k[4][i] +
                    e6 * k[5][i] + e7 * k[6][i]);
    }
  }

  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Interpolate(Ctx& c, R /*t*/, R theta, R h, const R* u, R* const* k,
                                             R* y, bool /*first*/) {
    using S = typename Ctx::Scalar;
    const int n = c.n();
    const R t2 = theta * theta;
    // b_i(θ) by Horner in θ; b1 has a linear term, the others start at θ².
    const R b1 =
        h * theta *
        (S(1.0) + theta * (S(-2.763706197274826) +
                           theta * (S(2.9132554618219126) + theta * S(-1.0530884977290216))));
    const R b2 = h * t2 * (S(0.13169999999999998) + theta * (S(-0.2234) + theta * S(0.1017)));
    const R b3 =
        h * t2 *
        (S(3.9302962368947516) + theta * (S(-5.941033872131505) + theta * S(2.490627285651253)));
    const R b4 =
        h * t2 *
        (S(-12.411077166933676) + theta * (S(30.33818863028232) + theta * S(-16.548102889244902)));
    const R b5 =
        h * t2 *
        (S(37.50931341651104) + theta * (S(-88.1789048947664) + theta * S(47.37952196281928)));
    const R b6 =
        h * t2 *
        (S(-27.896526289197286) + theta * (S(65.09189467479366) + theta * S(-34.87065786149661)));
    const R b7 = h * t2 * (S(1.5) + theta * (S(-4.0) + theta * S(2.5)));
    for (int i = 0; i < n; ++i) {
      y[i] = u[i] + b1 * k[0][i] + b2 * k[1][i] + b3 * k[2][i] + b4 * k[3][i] + b5 * k[4][i] +
             b6 * k[5][i] + b7 * k[6][i];
    }
  }
};

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_TSIT5_H_
