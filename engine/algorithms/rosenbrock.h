// The Rosenbrock (Rodas-type) step, written once for every tableau: rodas4.h, rodas5.h and
// rodas5p.h hold only coefficients. Rosenbrock methods solve one linear system per stage
// with the same matrix, so a step costs one Jacobian, one df/dt, one LU factorization and
// s forward/back substitutions, and no Newton iteration that could fail to converge.
//
// The coefficients are in the transformed form of Hairer & Wanner ("Solving ODEs II",
// 2nd ed., section IV.7; the form of their RODAS code and of OrdinaryDiffEq.jl), which
// needs no matrix-vector product with J per stage. With J = df/du and T = df/dt at (t, u),
//   W = I/(h γ) - J,
//   y_i = u + Σ_{j<i} a_ij k_j,                                (y_0 = u)
//   W k_i = f(t + c_i h, y_i) + h d_i T + Σ_{j<i} (C_ij / h) k_j,
// for i = 0 .. s-1. Every method here is stiffly accurate: the last two stages sit at
// c = 1, the solution is the last stage's state plus its increment, u_new = y_{s-1} +
// k_{s-1}, and the embedded solution is y_{s-1} itself, so the error estimate is k_{s-1}.
// (Stiff accuracy gives R(∞) = 0, which with A-stability makes them L-stable, and it keeps
// the error estimate meaningful when h |λ| is huge.)
//
// Dense output (the methods' own "stiff-aware" interpolants, as in OrdinaryDiffEq.jl's
// rosenbrock_interpolants.jl): with D_r = Σ_j H_rj k_j,
//   u(t + θ h) = (1 - θ) u + θ (u_new + (1 - θ) (D_1 + θ (D_2 + θ D_3)))
// with two rows of H (D_3 = 0, third order) or three (fourth order).
#ifndef ENSOLVE_ENGINE_ALGORITHMS_ROSENBROCK_H_
#define ENSOLVE_ENGINE_ALGORITHMS_ROSENBROCK_H_

#include "engine/algorithms/events.h"
#include "engine/algorithms/hd.h"
#include "engine/algorithms/linsolve.h"

// Every loop over stages must unroll: the tableau is a local constexpr copy, and on the
// GPU an index that is not a compile-time constant would put it (and the stage vectors)
// in local memory.
#ifdef ENSOLVE_DEVICE_COMPILE
#define ENSOLVE_ROSENBROCK_UNROLL _Pragma("unroll")
#else
#define ENSOLVE_ROSENBROCK_UNROLL _Pragma("GCC unroll 8")
#endif

namespace ensolve::alg {

// S stages, NH rows of dense-output coefficients. Entries at and above the diagonal of a
// and C are unused (zero).
template <int S, int NH>
struct RosenbrockTableau {
  static constexpr int kStages = S;
  static constexpr int kDenseRows = NH;
  double gamma;    // the diagonal γ of the method's Γ matrix
  double a[S][S];  // stage states, transformed: α Γ⁻¹
  double C[S][S];  // stage couplings, transformed: diag(1/γ) - Γ⁻¹
  double c[S];     // stage times: row sums of α
  double d[S];     // df/dt weights: row sums of Γ (γ_i)
  double H[NH][S];
};

// Whether the last stage state is the previous one plus its increment (a_{s-1} = a_{s-2}
// + e_{s-2}) and both sit at c = 1: the stiffly accurate form the step assumes.
template <int S, int NH>
ENSOLVE_HD_CONSTEXPR bool IsStifflyAccurate(const RosenbrockTableau<S, NH>& t) {
  if (t.c[S - 1] != 1.0 || t.c[S - 2] != 1.0 || t.a[S - 1][S - 2] != 1.0) return false;
  for (int j = 0; j < S - 2; ++j) {
    if (t.a[S - 1][j] != t.a[S - 2][j]) return false;
  }
  return true;
}

// Method supplies the tableau (static ENSOLVE_HD_CONSTEXPR Tableau(), a function rather
// than a static constexpr member because CUDA device code may not read a non-scalar
// constexpr variable) and kOrder, kEmbeddedOrder, kDenseOrder.
template <class Method>
struct Rosenbrock {
  using Tab = decltype(Method::Tableau());
  static constexpr int kS = Tab::kStages;
  static constexpr int kNH = Tab::kDenseRows;
  static_assert(kNH == 2 || kNH == 3, "third- or fourth-order dense output");
  static_assert(kS >= kNH + 1, "dense output reuses the stage vectors");
  static_assert(IsStifflyAccurate(Method::Tableau()), "the step assumes stiff accuracy");

  static constexpr int kOrder = Method::kOrder;
  static constexpr int kEmbeddedOrder = Method::kEmbeddedOrder;
  static constexpr bool kAdaptive = true;
  static constexpr bool kStiff = true;
  static constexpr bool kFsal = false;  // f(t + h, u_new) is never evaluated
  static constexpr int kFsalStage = 0;
  static constexpr int kStages = kS;  // f at every stage state, y_0 = u included
  static constexpr int kDenseOrder = Method::kDenseOrder;
  // k[0..s) the stage increments (after an accepted step with save points: u_new - u and
  // D_1..D_NH), k[s] = df/dt.
  static constexpr int kVectors = kS + 1;
  static constexpr int kMatrices = 1;
  static constexpr bool kJacobian = true;
  static constexpr bool kTimeDerivative = true;

  // `fail` gains the lanes whose W is singular. unew doubles as the stage-state scratch.
  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Step(Ctx& c, R t, R h, const R* u, R* unew, R* err, R* const* k,
                                      typename Ctx::Mask& fail) {
    using S = typename Ctx::Scalar;
    constexpr Tab tab = Method::Tableau();
    const int n = c.n();
    R* const w = c.mat(0);
    R* const dT = k[kS];
    c.Jacobian(t, u, w);
    c.TimeDerivative(t, u, dT);
    const R inv_hg = S(1) / (h * S(tab.gamma));
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) w[i * n + j] = -w[i * n + j];
      w[i * n + i] = w[i * n + i] + inv_hg;
    }
    fail = fail | LuFactor(c, w, c.pivots());
    const R inv_h = S(1) / h;
    R* const y = unew;
    ENSOLVE_ROSENBROCK_UNROLL
    for (int s = 0; s < kS; ++s) {
      R* const ks = k[s];
      if (s == 0) {
        c.Rhs(t, u, ks);
      } else {
        for (int i = 0; i < n; ++i) {
          R v = u[i];
          ENSOLVE_ROSENBROCK_UNROLL
          for (int j = 0; j < s; ++j) {
            if (tab.a[s][j] != 0.0) v = v + S(tab.a[s][j]) * k[j][i];
          }
          y[i] = v;
        }
        c.Rhs(t + S(tab.c[s]) * h, y, ks);
      }
      const R hd = h * S(tab.d[s]);
      for (int i = 0; i < n; ++i) {
        R v = ks[i];
        if (tab.d[s] != 0.0) v = v + hd * dT[i];
        ENSOLVE_ROSENBROCK_UNROLL
        for (int j = 0; j < s; ++j) {
          if (tab.C[s][j] != 0.0) v = v + (S(tab.C[s][j]) * inv_h) * k[j][i];
        }
        ks[i] = v;
      }
      LuSolve(c, w, c.pivots(), ks);
    }
    // y holds the last stage's state.
    R* const last = k[kS - 1];
    for (int i = 0; i < n; ++i) {
      unew[i] = y[i] + last[i];
      err[i] = last[i];
    }
    // The interpolant's data, only where there are save points to interpolate or events to
    // locate (a GPU kernel without saveat or events has a compile-time 0 and drops this).
    if (internal::NeedsDenseOutput(c)) {
      for (int i = 0; i < n; ++i) {
        R ki[kS];
        ENSOLVE_ROSENBROCK_UNROLL
        for (int j = 0; j < kS; ++j) ki[j] = k[j][i];
        ENSOLVE_ROSENBROCK_UNROLL
        for (int r = 0; r < kNH; ++r) {
          R v = R(S(0));
          ENSOLVE_ROSENBROCK_UNROLL
          for (int j = 0; j < kS; ++j) {
            if (tab.H[r][j] != 0.0) v = v + S(tab.H[r][j]) * ki[j];
          }
          k[r + 1][i] = v;
        }
        k[0][i] = unew[i] - u[i];
      }
    }
  }

  // After Step: k[0] = u_new - u, k[1..NH] = D_1..D_NH.
  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Interpolate(Ctx& c, R /*t*/, R theta, R /*h*/, const R* u,
                                             R* const* k, R* y, bool /*first*/) {
    using S = typename Ctx::Scalar;
    const int n = c.n();
    const R theta1 = S(1) - theta;
    const R tt = theta * theta1;
    for (int i = 0; i < n; ++i) {
      R poly = k[kNH][i];
      ENSOLVE_ROSENBROCK_UNROLL
      for (int r = kNH - 1; r >= 1; --r) poly = k[r][i] + theta * poly;
      y[i] = u[i] + theta * k[0][i] + tt * poly;
    }
  }
};

}  // namespace ensolve::alg

#undef ENSOLVE_ROSENBROCK_UNROLL

#endif  // ENSOLVE_ENGINE_ALGORITHMS_ROSENBROCK_H_
