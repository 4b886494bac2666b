// The step of every ESDIRK method (explicit first stage, singly diagonally implicit, stiffly
// accurate, with an embedded error estimate), written once; kvaerno3.h, kvaerno5.h and
// trbdf2.h supply their tableaus.
//
// Stage i >= 1 solves  k_i = f(t + c_i h, B_i + h γ k_i),  B_i = u + h Σ_{j<i} a_ij k_j
// for the stage slope k_i by a simplified Newton iteration with the one iteration matrix
// M = I - h γ J, J = df/du at (t, u), factored once per step:
//   M Δ = f(t + c_i h, B_i + h γ k_i) - k_i,   k_i += Δ.
// Iterating on the slope rather than on the stage value Y_i = B_i + h γ k_i keeps k_i free
// of the cancellation (Y_i - B_i) / (h γ) would suffer at small h. The predictor is a
// combination of the earlier slopes, k_i ← Σ_j α_ij k_j (the α of each method's header).
// Stiffly accurate (b = the last row of A), so u_new is the last stage value and its slope
// is the last stage's k: the FSAL stage, f(t + h, u_new) to the Newton tolerance.
//
// Convergence (Hairer & Wanner, "Solving ODEs II", section IV.8, as in RADAU5):
// with ||.|| the RMS norm scaled by abstol + reltol max(|u|, |Y|), θ_m = ||hγΔ_m|| /
// ||hγΔ_{m-1}||, η = θ/(1-θ), a lane has converged when η ||hγΔ_m|| <= κtol. For the first
// iteration of a stage η is the one carried from the previous stage, max(η, eps)^0.8, and
// across steps as RADAU5 carries FACCON: the last stage's η, decayed so, is kept in the first
// element of the scratch vector k[s+1] (free between steps) and starts the next step (1 in a
// trajectory's first step, StepControls::steps == 0), so a step whose iteration contracted
// fast accepts a stage after one evaluation when its first correction is already small.
// κtol = max(10 eps / reltol, min(0.03, sqrt(reltol))) for the last stage, whose value is
// the solution, and max(10 eps / reltol, 0.03) (RADAU5's bound) for the stages before it:
// their iteration error reaches u_new only through B_{s-1}, and the tighter bound there cost
// two to three evaluations per stage for no gain in the error at equal work (measured in
// docs/algorithms.md, work-precision). A lane fails (the step is rejected and shrunk when
// adaptive) when θ >= 1 (divergence), when θ^(m_max-1-m) / (1-θ) ||hγΔ_m|| > κtol (it cannot
// converge in the iterations left), when the norm is not finite, or after m_max = 10
// iterations. At a fixed step the tolerances are no accuracy target and the iteration runs
// to rounding: abstol = reltol = 1, κtol = eps, only divergence (θ >= 1) fails a lane early,
// and a lane that stops contracting with ||hγΔ|| <= 100 eps, or reaches m_max with ||hγΔ||
// <= sqrt(eps), has converged. (A κtol of 100 eps alone leaves an error of about 100 eps per
// stage and step, which kvaerno5 at h = 0.0125 already sees: 1e-11 on methods_test's
// oscillator.) A fixed step cannot shrink, so a lane whose iteration failed there gets one
// second pass of the whole step with J taken at the predicted value of the stage that failed
// (and at t: J's time dependence matters little to an iteration matrix) instead of at u (Robertson
// at dt = 1e-3: J(u0) lacks the stiff y2 terms entirely); only if that fails too does the
// trajectory end kRetSingular. Lanes of a pack converge at different iterations: the loop runs
// while any lane works, and a converged or failed lane keeps its slope (Select).
//
// Error estimate: err = M^{-1} h Σ_j (b_j - b̂_j) k_j, filtered through M^{-1} as Hosea &
// Shampine do for TR-BDF2 (and Hairer & Wanner, IV.8, for RADAU5): the raw estimate
// is O(h^(p̂+1)) but grows like h J for stiff components the solution does not carry; M^{-1}
// = I + O(h) leaves its order as it is and damps those components.
//
// Dense output: the cubic Hermite interpolant through u, u_new, f(t, u) = k_0 and
// f(t + h, u_new) = k_{s-1} (third order; the methods' stage values are not reused).
//
// Right-hand side evaluations: one per Newton iteration; kStages = s - 1 counts one per
// implicit stage, and the iterations beyond the first of each stage are added to
// StepControls::extra_evals (integrate.h), per lane.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_ESDIRK_H_
#define ENSOLVE_ENGINE_ALGORITHMS_ESDIRK_H_

#include "engine/algorithms/hd.h"
#include "engine/algorithms/integrate.h"
#include "engine/algorithms/linsolve.h"

#ifdef ENSOLVE_DEVICE_COMPILE
// Stage loops unroll on the GPU so that k[i] and the coefficients are compile-time picks
// and every vector stays in registers.
#define ENSOLVE_ESDIRK_UNROLL _Pragma("unroll")
// The Newton loop stays a loop: unrolled, its ten copies per stage only add registers.
#define ENSOLVE_ESDIRK_NO_UNROLL _Pragma("unroll 1")
#else
#define ENSOLVE_ESDIRK_UNROLL
#define ENSOLVE_ESDIRK_NO_UNROLL
#endif

namespace ensolve::alg {

// An ESDIRK pair of S stages: c, the strictly lower triangular part of A (the diagonal is γ
// from stage 1 on, 0 for the explicit stage 0), e = b - b̂ with b = the last row of A
// (stiffly accurate), and the stage predictor α (each row sums to 1).
template <int S>
struct EsdirkTableau {
  static constexpr int kSize = S;
  double gamma;
  double c[S];
  double a[S][S];
  double e[S];
  double alpha[S][S];
};

// b_j = a_{s-1, j} for j < s - 1 and b_{s-1} = γ, read as the method's weights.
template <int S>
ENSOLVE_HD_CONSTEXPR double EsdirkWeight(const EsdirkTableau<S>& t, int j) {
  return j == S - 1 ? t.gamma : t.a[S - 1][j];
}

// Whether the tableau is consistent: c_0 = 0, c_i = Σ_j a_ij + γ, c_{s-1} = 1, e sums to
// 0, and each predictor row sums to 1 (to 1e-12).
ENSOLVE_HD_CONSTEXPR bool EsdirkClose(double x, double y) { return x - y < 1e-12 && y - x < 1e-12; }
template <int S>
ENSOLVE_HD_CONSTEXPR bool IsConsistentEsdirk(const EsdirkTableau<S>& t) {
  if (t.c[0] != 0.0 || t.c[S - 1] != 1.0) return false;
  double esum = 0.0;
  for (int i = 0; i < S; ++i) esum += t.e[i];
  if (!EsdirkClose(esum, 0.0)) return false;
  for (int i = 1; i < S; ++i) {
    double row = t.gamma, pred = 0.0;
    for (int j = 0; j < i; ++j) {
      row += t.a[i][j];
      pred += t.alpha[i][j];
    }
    if (!EsdirkClose(row, t.c[i]) || !EsdirkClose(pred, 1.0)) return false;
  }
  return true;
}

// The method struct for tableau Coef::kTableau (Coef: a struct holding it as static
// constexpr data). The derived method struct adds the table's facts.
template <class Coef>
struct Esdirk {
  using Coefficients = Coef;
  static constexpr int kSize = Coef::kTableau.kSize;
  static_assert(IsConsistentEsdirk(Coef::kTableau), "inconsistent ESDIRK tableau");

  static constexpr bool kFsal = true;  // k_{s-1} is the slope at u_new
  static constexpr int kFsalStage = kSize - 1;
  static constexpr int kStages = kSize - 1;  // the fewest: one Newton iteration per stage
  static constexpr int kDenseOrder = 3;      // cubic Hermite
  // k[0..s) the stage slopes, k[s] the stage value Y (then u_new, for Interpolate), k[s+1]
  // f(Y) and the Newton correction.
  static constexpr int kVectors = kSize + 2;
  static constexpr int kMatrices = 1;
  static constexpr bool kStiff = true;
  static constexpr bool kJacobian = true;
  static constexpr bool kTimeDerivative = false;
  static constexpr bool kAdaptive = true;
  static constexpr int kMaxNewton = 10;

  template <class Ctx, class R, class I>
  ENSOLVE_HD_OUTLINE static void Step(Ctx& c, R t, R h, const R* u, R* unew, R* err, R* const* k,
                                      typename Ctx::Mask& fail,
                                      StepControls<typename Ctx::Scalar, I>& sc) {
    using S = typename Ctx::Scalar;
    using M = typename Ctx::Mask;
    // A local copy: the coefficients are constants in device code, with no device-side
    // definition of the static member needed.
    constexpr EsdirkTableau<kSize> tab = Coef::kTableau;
    const int n = c.n();
    R* const y = k[kSize];
    R* const w = k[kSize + 1];
    R* const mat = c.mat(0);
    const S eps = Epsilon<S>::value;
    const R hg = h * S(tab.gamma);
    // Newton tolerances (see the top of this file).
    const S atol = sc.adaptive ? sc.abstol : S(1);
    const S rtol = sc.adaptive ? sc.reltol : S(1);
    // κtol of the last stage (the solution) and of the stages before it.
    const S ktol_last =
        sc.adaptive ? Max(S(10) * eps / sc.reltol, Min(S(0.03), Sqrt(sc.reltol))) : eps;
    const S ktol_inner = sc.adaptive ? Max(S(10) * eps / sc.reltol, S(0.03)) : eps;
    // At a fixed step, a lane that stops contracting below this has converged to rounding.
    const S floor = sc.adaptive ? S(0) : S(100) * eps;
    // ... and one still contracting after m_max iterations with ||hγΔ|| <= sqrt(eps) too
    // (far below a fixed step's own truncation error).
    const S last_floor = sc.adaptive ? S(0) : Sqrt(eps);

    // η of the previous step's last iteration (k[s+1][0], see the end of the step), 1 in a
    // trajectory's first step.
    R eta = Select(M(sc.steps == 0), R(S(1)), LowExp(S(0.8) * LowLog(Max(w[0], R(eps)))));
    // Lanes whose iteration failed at a fixed step, and the predicted value of the stage
    // where it did (in unew, free until the end of the step; u for a lane whose M was
    // singular from the start, which so stays singular).
    M refresh = M(false);
    for (int i = 0; i < n; ++i) unew[i] = u[i];
    ENSOLVE_ESDIRK_NO_UNROLL
    for (int pass = 0; pass < 2; ++pass) {
      // Pass 0: M = I - h γ J(t, u), factored once for the step. Pass 1, at a fixed step only,
      // for the lanes in `refresh`: J at (t, unew) and the step again from its first stage; the
      // other lanes get J(t, u) again (the same M, bit for bit) and keep their stages. A singular M
      // fails the lane.
      if (pass > 0 && (sc.adaptive || !Any(refresh))) break;
      const M run = pass == 0 ? M(true) : refresh;
      for (int i = 0; i < n; ++i) w[i] = Select(refresh, unew[i], u[i]);
      c.Jacobian(t, w, mat);
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) mat[i * n + j] = -hg * mat[i * n + j];
        mat[i * n + i] = mat[i * n + i] + S(1);
      }
      const M singular = LuFactor(c, mat, c.pivots());
      fail = (pass == 0 ? fail : (fail & !run)) | (run & singular);
      eta = Select(M(pass > 0) & run, R(S(1)), eta);

      ENSOLVE_ESDIRK_UNROLL
      for (int s = 1; s < kSize; ++s) {
        R* const ks = k[s];
        const R ts = t + S(tab.c[s]) * h;
        // B_s into err (scratch until the error estimate), the predicted slope into k_s.
        for (int i = 0; i < n; ++i) {
          R b = u[i];
          R p = R(S(0));
          ENSOLVE_ESDIRK_UNROLL
          for (int j = 0; j < s; ++j) {
            b = b + h * S(tab.a[s][j]) * k[j][i];
            p = p + S(tab.alpha[s][j]) * k[j][i];
          }
          err[i] = Select(run, b, err[i]);
          ks[i] = Select(run, p, ks[i]);
        }
        M working = run & !fail;
        if (!sc.adaptive) {
          for (int i = 0; i < n; ++i) unew[i] = Select(working, err[i] + hg * ks[i], unew[i]);
        }
        R nd_prev = R(S(1));
        const S ktol = s == kSize - 1 ? ktol_last : ktol_inner;
        ENSOLVE_ESDIRK_NO_UNROLL
        for (int m = 0; m < kMaxNewton && Any(working); ++m) {
          // (The second pass's evaluations are all beyond kStages.)
          if (m > 0 || pass > 0)
            sc.extra_evals = Select(working, sc.extra_evals + 1, sc.extra_evals);
          for (int i = 0; i < n; ++i) y[i] = err[i] + hg * ks[i];
          c.Rhs(ts, y, w);
          for (int i = 0; i < n; ++i) w[i] = w[i] - ks[i];
          LuSolve(c, mat, c.pivots(), w);
          R sum = R(S(0));
          for (int i = 0; i < n; ++i) {
            const R d = hg * w[i] / (atol + rtol * Max(Abs(u[i]), Abs(y[i])));
            sum = sum + d * d;
            ks[i] = Select(working, ks[i] + w[i], ks[i]);
          }
          const R nd = Sqrt(sum / S(n));
          M bad = !IsFinite(nd);
          if (m > 0) {
            const R theta = nd / Select(nd_prev > S(0), nd_prev, R(S(1)));
            const M slow = theta >= S(1);
            const R theta1 = Select(slow, R(S(0.5)), theta);  // keeps 1 - θ away from 0
            eta = Select(working, theta1 / (S(1) - theta1), eta);
            // Whether the iterations left can reach κtol at this rate. (θ^j in float32
            // exp/log: a heuristic needs no more digits, and powf's code is the largest of
            // the step on a GPU.)
            const int left = kMaxNewton - 1 - m;
            const R pow_left = Select(theta1 > S(0), LowExp(S(left) * LowLog(theta1)), R(S(0)));
            const R reach = Select(M(left == 0), R(S(1)), pow_left) / (S(1) - theta1) * nd;
            // (At a fixed step only divergence fails a lane: the step cannot shrink, and a
            // slowly contracting iteration still gets its m_max tries.)
            bad = bad | slow | (M(sc.adaptive) & (reach > ktol));
          }
          const M last = M(m == kMaxNewton - 1);
          const M conv =
              working & IsFinite(nd) &
              ((eta * nd <= ktol) | ((bad | last) & (nd <= floor)) | (last & (nd <= last_floor)));
          fail = fail | (working & !conv & bad);
          working = working & !conv & !bad;
          nd_prev = Select(working, nd, nd_prev);
        }
        fail = fail | working;  // not converged in kMaxNewton iterations
        // η_prev^0.8 for the next stage
        eta = Select(run, LowExp(S(0.8) * LowLog(Max(eta, R(eps)))), eta);
      }
      // Which lanes get a second pass.
      refresh = run & fail;
    }

    // u_new = B_{s-1} + h γ k_{s-1}; kept in k[s] for Interpolate.
    for (int i = 0; i < n; ++i) {
      unew[i] = err[i] + hg * k[kSize - 1][i];
      y[i] = unew[i];
    }
    if (sc.adaptive) {
      for (int i = 0; i < n; ++i) {
        R e = R(S(0));
        ENSOLVE_ESDIRK_UNROLL
        for (int j = 0; j < kSize; ++j) e = e + S(tab.e[j]) * k[j][i];
        err[i] = h * e;
      }
      LuSolve(c, mat, c.pivots(), err);
    }
    // η for the next step's first iteration: the scratch vector k[s+1] is not used between
    // steps (nor by the driver), so its first element carries it.
    w[0] = eta;
  }

  // Cubic Hermite on [t, t + h] from u, k[s] = u_new, k[0] = f(t, u), k[s-1] = f(t+h, u_new).
  template <class Ctx, class R>
  ENSOLVE_HD_OUTLINE static void Interpolate(Ctx& c, R /*t*/, R theta, R h, const R* u, R* const* k,
                                             R* y, bool /*first*/) {
    using S = typename Ctx::Scalar;
    const int n = c.n();
    const R t2 = theta * theta, t3 = t2 * theta;
    const R h00 = S(2) * t3 - S(3) * t2 + S(1);
    const R h01 = S(3) * t2 - S(2) * t3;
    const R h10 = h * (t3 - S(2) * t2 + theta);
    const R h11 = h * (t3 - t2);
    const R* const u1 = k[kSize];
    const R* const f0 = k[0];
    const R* const f1 = k[kSize - 1];
    for (int i = 0; i < n; ++i) y[i] = h00 * u[i] + h01 * u1[i] + h10 * f0[i] + h11 * f1[i];
  }
};

}  // namespace ensolve::alg

#undef ENSOLVE_ESDIRK_UNROLL
#undef ENSOLVE_ESDIRK_NO_UNROLL

#endif  // ENSOLVE_ENGINE_ALGORITHMS_ESDIRK_H_
