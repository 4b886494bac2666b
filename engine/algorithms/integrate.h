// The integration driver shared by every backend: step, control the error, save through
// dense output, detect the end of each trajectory. Written once for any lane model:
//   - GPU and host reference: Real = float/double, Mask = bool, Index = int (one trajectory);
//   - CPU backend: Real = a pack of W lanes, Mask/Index = packs too (W trajectories at once,
//     each with its own t, step size and accept/reject decision).
//
// The context `Ctx` supplies the model and the storage:
//   using Scalar = float | double;  using Real; using Mask; using Index;
//   int n() const;                          number of states
//   Real* vec(int j);                       scratch vector j < kIntegrateVectors, n long
//   void Rhs(Real t, const Real* u, Real* du);
//   int num_save() const;                   saveat points (0: final state only)
//   Real SaveTime(Index i) const;           saveat[i]; +infinity when i >= num_save()
//   void Save(Index i, const Real* y, Mask m);       y is the state at save point i (lanes m)
//   Mask Begin(Real* u);                    loads initial states; lanes holding a trajectory
//   Mask Retire(Mask done, Index code, const Real* u, Index accepted, Index rejected,
//               Index rhs_evals);           records finished lanes; may load new trajectories
//                                           into those lanes' u and returns them (else false)
//   bool Stop();                            true to abandon the batch (cancellation)
#ifndef ENSOLVE_ENGINE_ALGORITHMS_INTEGRATE_H_
#define ENSOLVE_ENGINE_ALGORITHMS_INTEGRATE_H_

#include "engine/algorithms/controller.h"
#include "engine/algorithms/hd.h"

namespace ensolve::alg {

// u, unew, err (also stage and interpolation scratch), k[0..6].
inline constexpr int kIntegrateVectors = 10;

template <class S>
struct Controls {
  S t0, t1;
  S dt;  // fixed step, or the initial step of an adaptive run (0: automatic)
  S abstol, reltol;
  S dtmin;  // 0: a few ulps of t
  int max_steps;
  bool adaptive;
};

template <class R, class I>
struct LaneState {
  R t, h, log_qold, nfixed;
  I accepted, rejected, rhs_evals, save;
};

namespace internal {

// Saves u at every save point <= t for lanes in m (used at t0).
template <class Ctx, class R, class M, class I>
ENSOLVE_HD void SaveReached(Ctx& c, M m, I& save, R t, const R* u) {
  m = m & (c.SaveTime(save) <= t);
  while (Any(m)) {
    c.Save(save, u, m);
    save = Select(m, save + 1, save);
    m = m & (c.SaveTime(save) <= t);
  }
}

// RMS of err / (abstol + reltol * max(|u|, |unew|)).
template <class Ctx, class R, class S>
ENSOLVE_HD R ErrorNorm(Ctx& c, const R* err, const R* u, const R* unew, S abstol, S reltol) {
  const int n = c.n();
  R sum = R(S(0));
  for (int i = 0; i < n; ++i) {
    const R sc = abstol + reltol * Max(Abs(u[i]), Abs(unew[i]));
    const R e = err[i] / sc;
    sum = sum + e * e;
  }
  return Sqrt(sum / S(n));
}

// Starts the lanes in m at t0: counters, saves at t0, f(t0, u0) for methods that carry it,
// and the first step size (Hairer, Norsett & Wanner, "Solving ODEs I", II.4, the starting
// step size algorithm).
template <class Alg, class Ctx, class R, class M, class I, class S>
ENSOLVE_HD void StartLanes(Ctx& c, const Controls<S>& o, bool adaptive, M m, LaneState<R, I>& st,
                           R* u, R* unew, R* err, R* const* k) {
  const int n = c.n();
  st.t = Select(m, R(o.t0), st.t);
  st.log_qold = Select(m, R(S(kLogQoldInit)), st.log_qold);
  st.nfixed = Select(m, R(S(0)), st.nfixed);
  st.accepted = Select(m, I(0), st.accepted);
  st.rejected = Select(m, I(0), st.rejected);
  st.rhs_evals = Select(m, I(0), st.rhs_evals);
  st.save = Select(m, I(0), st.save);
  SaveReached(c, m, st.save, st.t, u);
  if (!Alg::kFsal && !(adaptive && o.dt <= S(0))) {
    st.h = Select(m, R(o.dt), st.h);
    return;
  }
  // f0 into err, then into k[0] for these lanes only (others keep their FSAL stage).
  c.Rhs(st.t, u, err);
  for (int i = 0; i < n; ++i) k[0][i] = Select(m, err[i], k[0][i]);
  st.rhs_evals = Select(m, st.rhs_evals + 1, st.rhs_evals);
  if (!(adaptive && o.dt <= S(0))) {
    st.h = Select(m, R(o.dt), st.h);
    return;
  }
  R d0 = R(S(0)), d1 = R(S(0));
  for (int i = 0; i < n; ++i) {
    const R sc = o.abstol + Abs(u[i]) * o.reltol;
    d0 = d0 + (u[i] / sc) * (u[i] / sc);
    d1 = d1 + (k[0][i] / sc) * (k[0][i] / sc);
  }
  d0 = Sqrt(d0 / S(n));
  d1 = Sqrt(d1 / S(n));
  const R span = R(o.t1 - o.t0);
  R h0 = Select((d0 < S(1e-5)) | (d1 < S(1e-5)), R(S(1e-6)), S(0.01) * d0 / d1);
  h0 = Min(h0, span);
  for (int i = 0; i < n; ++i) unew[i] = u[i] + h0 * k[0][i];
  R* f1 = k[1];
  c.Rhs(st.t + h0, unew, f1);
  st.rhs_evals = Select(m, st.rhs_evals + 1, st.rhs_evals);
  R d2 = R(S(0));
  for (int i = 0; i < n; ++i) {
    const R sc = o.abstol + Abs(u[i]) * o.reltol;
    const R df = (f1[i] - k[0][i]) / sc;
    d2 = d2 + df * df;
  }
  d2 = Sqrt(d2 / S(n)) / h0;
  const R dmax = Max(d1, d2);
  const R h1 = Select(dmax <= S(1e-15), Max(R(S(1e-6)), h0 * S(1e-3)),
                      Pow(S(0.01) / dmax, S(1) / S(Alg::kOrder)));
  st.h = Select(m, Min(Min(S(100) * h0, h1), span), st.h);
}

}  // namespace internal

// Integrates every trajectory the context hands out, from t0 to t1.
template <class Alg, class Ctx>
ENSOLVE_HD void Integrate(Ctx& c, const Controls<typename Ctx::Scalar>& o) {
  using S = typename Ctx::Scalar;
  using R = typename Ctx::Real;
  using M = typename Ctx::Mask;
  using I = typename Ctx::Index;
  const int n = c.n();
  const bool adaptive = Alg::kAdaptive && o.adaptive;
  R* u = c.vec(0);
  R* unew = c.vec(1);
  R* err = c.vec(2);
  R* const k[7] = {c.vec(3), c.vec(4), c.vec(5), c.vec(6), c.vec(7), c.vec(8), c.vec(9)};
  const S eps = Epsilon<S>::value;
  const S t1 = o.t1;

  LaneState<R, I> st{R(S(0)), R(S(0)), R(S(0)), R(S(0)), I(0), I(0), I(0), I(0)};
  M active = c.Begin(u);
  internal::StartLanes<Alg>(c, o, adaptive, active, st, u, unew, err, k);

  while (Any(active)) {
    if (c.Stop()) return;
    // This step's size; the last one lands exactly on t1.
    R h;
    M last;
    if (adaptive) {
      last = (st.t + st.h * S(1.01)) >= t1;
      h = Select(last, t1 - st.t, st.h);
    } else {
      const R tnext = o.t0 + (st.nfixed + S(1)) * o.dt;
      last = tnext >= t1 - S(8) * eps * Abs(t1);
      h = Select(last, t1 - st.t, tnext - st.t);
    }
    Alg::Step(c, st.t, h, u, unew, err, k);
    st.rhs_evals = Select(active, st.rhs_evals + Alg::kStages, st.rhs_evals);

    M accept = active;
    R q = R(S(0));
    if (adaptive) {
      q = internal::ErrorNorm(c, err, u, unew, o.abstol, o.reltol);
      accept = accept & IsFinite(q) & (q <= S(1));
    }

    // Dense output for every save point this step passed. (A context whose num_save() is
    // a compile-time 0 drops this block: the GPU's final-state-only kernels.)
    const R tend = st.t + h;
    if (c.num_save() > 0) {
      M ms = accept & (c.SaveTime(st.save) <= tend);
      while (Any(ms)) {
        const R theta = (c.SaveTime(st.save) - st.t) / h;
        Alg::Interpolate(c, theta, h, u, k, err);
        c.Save(st.save, err, ms);
        st.save = Select(ms, st.save + 1, st.save);
        ms = ms & (c.SaveTime(st.save) <= tend);
      }
    }

    M finite = accept;
    for (int i = 0; i < n; ++i) {
      u[i] = Select(accept, unew[i], u[i]);
      finite = finite & IsFinite(unew[i]);
      if (Alg::kFsal) k[0][i] = Select(accept, k[6][i], k[0][i]);
    }
    st.t = Select(accept, Select(last, R(t1), tend), st.t);
    st.nfixed = Select(accept, st.nfixed + S(1), st.nfixed);
    st.accepted = Select(accept, st.accepted + 1, st.accepted);
    st.rejected = Select(active & !accept, st.rejected + 1, st.rejected);

    M too_small = active & !active;  // all false
    if (adaptive) {
      const R hnew = NextStepSize<S>(q, h, accept, st.log_qold);
      st.h = Select(active, hnew, st.h);
      const R dtmin = Max(R(o.dtmin), S(4) * eps * Max(Abs(st.t), R(Abs(t1))));
      too_small = active & !(accept & last) & (hnew < dtmin);
    }

    const M unstable = accept & !finite;
    const M done = accept & last;
    const M maxed = active & !done & ((st.accepted + st.rejected) >= o.max_steps);
    const M finished = done | unstable | maxed | too_small;
    if (Any(finished)) {
      const I code = Select(unstable, I(kRetUnstable),
                            Select(too_small, I(kRetDtBelowMin),
                                   Select(maxed & !done, I(kRetMaxSteps), I(kRetSuccess))));
      const M fresh = c.Retire(finished, code, u, st.accepted, st.rejected, st.rhs_evals);
      active = (active & !finished) | fresh;
      if (Any(fresh)) internal::StartLanes<Alg>(c, o, adaptive, fresh, st, u, unew, err, k);
    }
  }
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_INTEGRATE_H_
