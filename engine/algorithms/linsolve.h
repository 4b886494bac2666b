// Dense LU factorization with partial pivoting and the matching solve, per lane: what the
// stiff methods use for their iteration matrices. Written once, like the steps, for a
// plain float/double (one trajectory per GPU thread; rows swap by branches) and for the CPU
// backend's packs (each lane picks its own pivots; rows swap by masked selects). Loops
// over n have compile-time bounds on the GPU, so small systems stay in registers.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_LINSOLVE_H_
#define ENSOLVE_ENGINE_ALGORITHMS_LINSOLVE_H_

#include "engine/algorithms/hd.h"

namespace ensolve::alg {

// Block structure (forward sensitivity models, engine/model/sensitivity.h): a context
// whose blocks() is b > 1 promises that its N x N iteration matrices (N = n(), row-major)
// are block lower triangular, b x b blocks of size N / b, with every diagonal block the
// same. LuFactor then factors only the leading diagonal block and LuSolve solves by block
// forward substitution: O((N/b)^3) instead of O(N^3). A context without blocks() is dense.
template <class Ctx>
ENSOLVE_HD auto BlocksOf(const Ctx& c, int) -> decltype(c.blocks()) {
  return c.blocks();
}
template <class Ctx>
ENSOLVE_HD int BlocksOf(const Ctx&, long) {
  return 1;
}

// Factors the leading n x n block of the row-major matrix `a` (row stride `stride`) in
// place as P A = L U (unit lower L below the diagonal, U on and above it); piv[k] is the
// row swapped with row k at step k. Returns the lanes whose matrix is singular to working
// precision (a zero or non-finite pivot); their factors are unusable, every other lane's
// are exact LU.
template <class Ctx, class R, class I>
ENSOLVE_HD typename Ctx::Mask LuFactorBlock(Ctx& c, int n, int stride, R* a, I* piv) {
  using S = typename Ctx::Scalar;
  using M = typename Ctx::Mask;
  (void)c;
  M singular = M(false);
  for (int k = 0; k < n; ++k) {
    I p = I(k);
    R best = Abs(a[k * stride + k]);
    for (int i = k + 1; i < n; ++i) {
      const R v = Abs(a[i * stride + k]);
      const M m = v > best;
      best = Select(m, v, best);
      p = Select(m, I(i), p);
    }
    piv[k] = p;
    for (int i = k + 1; i < n; ++i) {
      const M m = p == i;
      if (!Any(m)) continue;
      for (int j = 0; j < n; ++j) {
        const R top = a[k * stride + j];
        a[k * stride + j] = Select(m, a[i * stride + j], top);
        a[i * stride + j] = Select(m, top, a[i * stride + j]);
      }
    }
    const M bad = (!(best > S(0))) | (!IsFinite(best));
    singular = singular | bad;
    const R inv = S(1) / Select(bad, R(S(1)), a[k * stride + k]);
    for (int i = k + 1; i < n; ++i) {
      const R l = a[i * stride + k] * inv;
      a[i * stride + k] = l;
      for (int j = k + 1; j < n; ++j) a[i * stride + j] = a[i * stride + j] - l * a[k * stride + j];
    }
  }
  return singular;
}

// Solves A x = b in place (b becomes x, n values) from LuFactorBlock's output.
template <class Ctx, class R, class I>
ENSOLVE_HD void LuSolveBlock(Ctx& c, int n, int stride, const R* lu, const I* piv, R* b) {
  (void)c;
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
    for (int j = 0; j < i; ++j) s = s - lu[i * stride + j] * b[j];
    b[i] = s;
  }
  for (int i = n - 1; i >= 0; --i) {
    R s = b[i];
    for (int j = i + 1; j < n; ++j) s = s - lu[i * stride + j] * b[j];
    b[i] = s / lu[i * stride + i];
  }
}

// Factors the c.n() x c.n() iteration matrix `a` (see LuFactorBlock), or only its leading
// diagonal block when the context declares block structure (BlocksOf); the blocks below
// the diagonal are left as they are, for LuSolve.
template <class Ctx, class R, class I>
ENSOLVE_HD typename Ctx::Mask LuFactor(Ctx& c, R* a, I* piv) {
  const int n = c.n();
  return LuFactorBlock(c, n / BlocksOf(c, 0), n, a, piv);
}

// Solves A x = b in place (b becomes x) from LuFactor's output: with block structure,
// x_0 = D^-1 b_0, then x_j = D^-1 (b_j - A_j0 x_0) for each block j > 0 (the blocks
// between 0 and j are zero, as in the sensitivity models' Jacobians).
template <class Ctx, class R, class I>
ENSOLVE_HD void LuSolve(Ctx& c, const R* lu, const I* piv, R* b) {
  const int n = c.n(), blocks = BlocksOf(c, 0), nb = n / blocks;
  LuSolveBlock(c, nb, n, lu, piv, b);
  for (int j = 1; j < blocks; ++j) {
    R* bj = b + j * nb;
    for (int i = 0; i < nb; ++i) {
      R s = bj[i];
      for (int k = 0; k < nb; ++k) s = s - lu[(j * nb + i) * n + k] * b[k];
      bj[i] = s;
    }
    LuSolveBlock(c, nb, n, lu, piv, bj);
  }
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_LINSOLVE_H_
