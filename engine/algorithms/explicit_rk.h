// One Step and one Interpolate for every explicit Runge-Kutta pair whose coefficients are
// constexpr data (tableau.h): a method is its tableau, its dense-output tableau and the
// k[] vector of each extra stage,
//
//   struct Vern7 : ExplicitRK<Vern7> {
//     static constexpr ExplicitTableau<N> kTableau = ...;
//     static constexpr DenseTableau<N, X, D> kDense = ...;
//     static constexpr int kExtraSlot[X > 0 ? X : 1] = ...;  // k[] index of stage N + x
//     ... the table's constants (integrate.h), kStages and kFsal from NewEvaluations/IsFsal
//   };
//
// Every loop over stages runs over compile-time indices (template recursion), and every
// coefficient is read into a constexpr local: on the GPU the loops unroll, zero coefficients
// generate no code, and no table is left in memory. (CUDA lets device code read the scalar
// elements of a host constexpr array only inside a constant expression, hence the
// constexpr locals throughout.)
//
// Stage i < N lives in k[i]. Extra stages (the lazy ones of a Verner interpolant) reuse the
// vectors of step stages that neither the interpolant nor a later extra stage reads;
// SlotsAreSafe checks that at compile time.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_EXPLICIT_RK_H_
#define ENSOLVE_ENGINE_ALGORITHMS_EXPLICIT_RK_H_

#include "engine/algorithms/hd.h"
#include "engine/algorithms/tableau.h"

namespace ensolve::alg {

// The k[] vector of stage i (i < N: k[i]).
template <int N, int X>
ENSOLVE_HD_CONSTEXPR int StageSlot(const int (&extra_slot)[X > 0 ? X : 1], int i) {
  return i < N ? i : extra_slot[i - N];
}

// Whether stage i's interpolation weight b_i(θ) is not identically zero.
template <int N, int X, int D>
ENSOLVE_HD_CONSTEXPR bool InInterpolant(const DenseTableau<N, X, D>& d, int i) {
  for (int p = 0; p < D; ++p) {
    if (d.r[i][p] != 0.0) return true;
  }
  return false;
}

// k[] vectors used: the N step stages and the extra stages' slots.
template <int N, int X, int D>
ENSOLVE_HD_CONSTEXPR int VectorsFor(const DenseTableau<N, X, D>& /*d*/,
                                    const int (&extra_slot)[X > 0 ? X : 1]) {
  int v = N;
  for (int x = 0; x < X; ++x) v = extra_slot[x] + 1 > v ? extra_slot[x] + 1 : v;
  return v;
}

// No extra stage overwrites a stage that is read after it (by a later extra stage or by the
// interpolant), nor the FSAL stage the next step starts from.
template <int N, int X, int D>
ENSOLVE_HD_CONSTEXPR bool SlotsAreSafe(const ExplicitTableau<N>& t, const DenseTableau<N, X, D>& d,
                                       const int (&extra_slot)[X > 0 ? X : 1]) {
  for (int x = 0; x < X; ++x) {
    const int q = extra_slot[x];
    if (q < 0) return false;
    int prev = -1;  // the stage that slot q holds when stage N + x is written
    for (int p = 0; p < N + x; ++p) {
      if (StageSlot<N, X>(extra_slot, p) == q) prev = p;
    }
    if (prev < 0) continue;
    if (InInterpolant(d, prev)) return false;
    if (IsFsal(t) && prev == N - 1) return false;
    for (int y = x + 1; y < X; ++y) {
      if (d.a[y][prev] != 0.0) return false;
    }
  }
  return true;
}

template <class M>
struct ExplicitRK {
  // Functions rather than constants: M is incomplete where it derives from ExplicitRK<M>,
  // and a function body is instantiated only when called.
  ENSOLVE_HD_CONSTEXPR static int N() { return M::kTableau.kSize; }
  ENSOLVE_HD_CONSTEXPR static int X() { return M::kDense.kExtra; }
  ENSOLVE_HD_CONSTEXPR static int D() { return M::kDense.kDegree; }
  static constexpr int kRowB = -1;  // Row argument: the weights b
  static constexpr int kRowE = -2;  // the error weights e = b - b̂

  // Coefficient j of row `row` (a stage i < N + X, or kRowB / kRowE).
  ENSOLVE_HD_CONSTEXPR static double W(int row, int j) {
    if (row == kRowB) return j < N() ? M::kTableau.b[j] : 0.0;
    if (row == kRowE) return j < N() ? M::kTableau.e[j] : 0.0;
    if (row < N()) return j < N() ? M::kTableau.a[row][j] : 0.0;
    return M::kDense.a[row - N()][j];
  }
  ENSOLVE_HD_CONSTEXPR static double C(int i) {
    return i < N() ? M::kTableau.c[i] : M::kDense.c[i - N()];
  }
  ENSOLVE_HD_CONSTEXPR static int Slot(int i) { return StageSlot<N(), X()>(M::kExtraSlot, i); }
  ENSOLVE_HD_CONSTEXPR static double Rcoef(int i, int p) { return M::kDense.r[i][p]; }
  ENSOLVE_HD_CONSTEXPR static bool Dense(int i) { return InInterpolant(M::kDense, i); }
  ENSOLVE_HD_CONSTEXPR static int First(int row, int end) {
    for (int j = 0; j < end; ++j) {
      if (W(row, j) != 0.0) return j;
    }
    return end;
  }

  // acc + Σ_{J <= j < End} W(Row, j) k_j[i], zero weights skipped.
  template <int Row, int J, int End, class S, class R>
  ENSOLVE_HD static R Add(R acc, R* const* k, int i) {
    if constexpr (J < End) {
      constexpr double w = W(Row, J);
      if constexpr (w != 0.0) {
        constexpr int s = Slot(J);
        acc = acc + S(w) * k[s][i];
      }
      return Add<Row, J + 1, End, S>(acc, k, i);
    } else {
      return acc;
    }
  }
  // Σ_{j < End} W(Row, j) k_j[i], begun with its first nonzero term (x + 0 is not folded
  // for floating point).
  template <int Row, int End, class S, class R>
  ENSOLVE_HD static R Sum(R* const* k, int i) {
    constexpr int f = First(Row, End);
    if constexpr (f == End) {
      return R(S(0));
    } else {
      constexpr double w = W(Row, f);
      constexpr int s = Slot(f);
      return Add<Row, f + 1, End, S>(R(S(w) * k[s][i]), k, i);
    }
  }

  template <int I, class S, class R>
  ENSOLVE_HD static R StageTime(R t, R h) {
    constexpr double ci = C(I);
    if constexpr (ci == 1.0) {
      return t + h;
    } else if constexpr (ci == 0.0) {
      return t;
    } else {
      return t + S(ci) * h;
    }
  }

  // Stages I..End-1: tmp = u + h Σ_j a_Ij k_j, k_I = f(t + c_I h, tmp). For a FSAL pair the
  // last stage's argument is unew itself.
  template <int I, int End, class Ctx, class R>
  ENSOLVE_HD static void Stages(Ctx& c, R t, R h, const R* u, R* unew, R* tmp, R* const* k) {
    if constexpr (I < End) {
      using S = typename Ctx::Scalar;
      const int n = c.n();
      constexpr int s = Slot(I);
      if constexpr (I == N() - 1 && IsFsal(M::kTableau)) {
        for (int i = 0; i < n; ++i) unew[i] = u[i] + h * Sum<kRowB, N(), S>(k, i);
        c.Rhs(t + h, unew, k[s]);
      } else {
        for (int i = 0; i < n; ++i) tmp[i] = u[i] + h * Sum<I, I, S>(k, i);
        c.Rhs(StageTime<I, S>(t, h), tmp, k[s]);
      }
      Stages<I + 1, End>(c, t, h, u, unew, tmp, k);
    }
  }

  // On entry k[0] = f(t, u) for a FSAL pair (otherwise computed here). On return k[0..N)
  // hold the stages (k[N-1] = f(t + h, unew) for a FSAL pair), unew = u + h Σ b_i k_i, and
  // err = h Σ e_i k_i when the pair has an estimate. err doubles as stage scratch.
  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Step(Ctx& c, R t, R h, const R* u, R* unew, R* err, R* const* k,
                                      typename Ctx::Mask& /*fail*/) {
    using S = typename Ctx::Scalar;
    const int n = c.n();
    constexpr bool fsal = IsFsal(M::kTableau);
    if constexpr (!fsal) c.Rhs(t, u, k[0]);
    Stages<1, N()>(c, t, h, u, unew, err, k);
    if constexpr (!fsal) {
      for (int i = 0; i < n; ++i) unew[i] = u[i] + h * Sum<kRowB, N(), S>(k, i);
    }
    if constexpr (HasErrorEstimate(M::kTableau)) {
      for (int i = 0; i < n; ++i) err[i] = h * Sum<kRowE, N(), S>(k, i);
    }
  }

  // Σ_{p < D()} r_Ip θ^p by Horner, from coefficient P on (zero coefficients skipped), in
  // the wide type of Widen (hd.h): double coefficients and arithmetic at every precision.
  template <int I, int P, class Wd>
  ENSOLVE_HD static Wd Horner(Wd theta) {
    constexpr double r = Rcoef(I, P);
    if constexpr (P == D() - 1) {
      return Wd(r);
    } else if constexpr (r == 0.0) {
      return theta * Horner<I, P + 1>(theta);
    } else {
      return Wd(r) + theta * Horner<I, P + 1>(theta);
    }
  }
  // y += h b_J(θ) k_J for the stages J..End-1 in the interpolant, one stage at a time, so
  // that one weight is live at once (the GPU keeps every vector in registers).
  template <int J, int End, class Ctx, class R>
  ENSOLVE_HD static void AddStages(Ctx& c, R theta, R h, R* const* k, R* y) {
    if constexpr (J < End) {
      if constexpr (Dense(J)) {
        const int n = c.n();
        constexpr int s = Slot(J);
        const auto wide = Widen(theta);
        const R w = h * Narrow<R>(wide * Horner<J, 0>(wide));
        for (int i = 0; i < n; ++i) y[i] = y[i] + w * k[s][i];
      }
      AddStages<J + 1, End>(c, theta, h, k, y);
    }
  }

  // y = u(t + θh) ≈ u + h Σ_i b_i(θ) k_i. At the first save point of a step (`first`) the
  // extra stages are evaluated into their k[] vectors, with y as scratch; later save points
  // of the same step reuse them.
  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Interpolate(Ctx& c, R t, R theta, R h, const R* u, R* const* k,
                                             R* y, bool first) {
    const int n = c.n();
    if constexpr (X() > 0) {
      if (first) Stages<N(), N() + X()>(c, t, h, u, y, y, k);
    }
    for (int i = 0; i < n; ++i) y[i] = u[i];
    AddStages<0, N() + X()>(c, theta, h, k, y);
  }
};

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_EXPLICIT_RK_H_
