// Dense LU factorization with partial pivoting and the matching solve, per lane: what the
// stiff methods use for their iteration matrices. Written once, like the steps, for a
// plain float/double (one trajectory per GPU thread; rows swap by branches) and for the CPU
// backend's packs (each lane picks its own pivots; rows swap by masked selects). Loops
// over n have compile-time bounds on the GPU, so small systems stay in registers.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_LINSOLVE_H_
#define ENSOLVE_ENGINE_ALGORITHMS_LINSOLVE_H_

#include "engine/algorithms/hd.h"

namespace ensolve::alg {

// Factors the n x n row-major matrix `a` in place as P A = L U (unit lower L below the
// diagonal, U on and above it); piv[k] is the row swapped with row k at step k. Returns the
// lanes whose matrix is singular to working precision (a zero or non-finite pivot); their
// factors are unusable, every other lane's are exact LU.
template <class Ctx, class R, class I>
ENSOLVE_HD typename Ctx::Mask LuFactor(Ctx& c, R* a, I* piv) {
  using S = typename Ctx::Scalar;
  using M = typename Ctx::Mask;
  const int n = c.n();
  M singular = M(false);
  for (int k = 0; k < n; ++k) {
    I p = I(k);
    R best = Abs(a[k * n + k]);
    for (int i = k + 1; i < n; ++i) {
      const R v = Abs(a[i * n + k]);
      const M m = v > best;
      best = Select(m, v, best);
      p = Select(m, I(i), p);
    }
    piv[k] = p;
    for (int i = k + 1; i < n; ++i) {
      const M m = p == i;
      if (!Any(m)) continue;
      for (int j = 0; j < n; ++j) {
        const R top = a[k * n + j];
        a[k * n + j] = Select(m, a[i * n + j], top);
        a[i * n + j] = Select(m, top, a[i * n + j]);
      }
    }
    const M bad = !(best > S(0)) | !IsFinite(best);
    singular = singular | bad;
    const R inv = S(1) / Select(bad, R(S(1)), a[k * n + k]);
    for (int i = k + 1; i < n; ++i) {
      const R l = a[i * n + k] * inv;
      a[i * n + k] = l;
      for (int j = k + 1; j < n; ++j) a[i * n + j] = a[i * n + j] - l * a[k * n + j];
    }
  }
  return singular;
}

// Solves A x = b in place (b becomes x) from LuFactor's output.
template <class Ctx, class R, class I>
ENSOLVE_HD void LuSolve(Ctx& c, const R* lu, const I* piv, R* b) {
  const int n = c.n();
  for (int k = 0; k < n; ++k) {
    for (int i = k + 1; i < n; ++i) {
      const typename Ctx::Mask m = piv[k] == i;
      const R bk = b[k];
      b[k] = Select(m, b[i], bk);
      b[i] = Select(m, bk, b[i]);
    }
  }
  for (int i = 1; i < n; ++i) {
    R s = b[i];
    for (int j = 0; j < i; ++j) s = s - lu[i * n + j] * b[j];
    b[i] = s;
  }
  for (int i = n - 1; i >= 0; --i) {
    R s = b[i];
    for (int j = i + 1; j < n; ++j) s = s - lu[i * n + j] * b[j];
    b[i] = s / lu[i * n + i];
  }
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_LINSOLVE_H_
