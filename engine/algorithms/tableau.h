// Butcher tableaus as checked data. A method's coefficients are constexpr tables (with
// their source cited in the method's header); what follows from them (how many new
// right-hand side evaluations a step makes, whether the last stage is first-same-as-last,
// the order conditions they satisfy) is derived here at compile time, and tableau_test.cc
// checks the derivations against each method's declared constants.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_TABLEAU_H_
#define ENSOLVE_ENGINE_ALGORITHMS_TABLEAU_H_

#include "engine/algorithms/hd.h"

namespace ensolve::alg {

// An explicit Runge-Kutta pair of S stages: c, the strictly lower triangular A, the
// weights b and the error weights e = b - b̂ (all zero for a method without an estimate).
template <int S>
struct ExplicitTableau {
  static constexpr int kSize = S;
  double c[S];
  double a[S][S];
  double b[S];
  double e[S];
};

// First same as last: the last stage is evaluated at (t + h, u_new), so the next step's
// first stage is free.
template <int S>
ENSOLVE_HD_CONSTEXPR bool IsFsal(const ExplicitTableau<S>& t) {
  if (t.c[S - 1] != 1.0 || t.b[S - 1] != 0.0) return false;
  for (int j = 0; j < S - 1; ++j) {
    if (t.a[S - 1][j] != t.b[j]) return false;
  }
  return true;
}

// New right-hand side evaluations per accepted step.
template <int S>
ENSOLVE_HD_CONSTEXPR int NewEvaluations(const ExplicitTableau<S>& t) {
  return IsFsal(t) ? S - 1 : S;
}

// The continuous extension of an explicit pair of N stages: X extra stages (evaluated only
// in a step where a save point falls; X = 0 for a free interpolant) and the weights
// b_i(θ) = Σ_{d=1..D} r[i][d-1] θ^d of all N + X stages, so that
//   u(t + θh) ≈ u + h Σ_i b_i(θ) k_i.
// Extra stage N + x has node c[x] and row a[x][0 .. N + x) over all earlier stages.
// (The arrays keep one dummy row when X = 0: C++ has no zero-length arrays.)
template <int N, int X, int D>
struct DenseTableau {
  static constexpr int kStages = N;
  static constexpr int kExtra = X;
  static constexpr int kDegree = D;
  double c[X > 0 ? X : 1];
  double a[X > 0 ? X : 1][N + X];
  double r[N + X][D];
};

template <int S>
ENSOLVE_HD_CONSTEXPR bool HasErrorEstimate(const ExplicitTableau<S>& t) {
  for (int j = 0; j < S; ++j) {
    if (t.e[j] != 0.0) return true;
  }
  return false;
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_TABLEAU_H_
