// The driver of the stochastic methods (table rows with `stochastic`: em, siea), for any
// lane model, like integrate.h's for ODEs. Itô SDEs du = f(t, u) dt + g(t, u) dW with m
// independent Wiener processes, fixed steps only, forward in time.
//
// The context is integrate.h's (vec, Rhs, num_save, SaveTime, Save, Begin, Retire, Stop,
// and optionally T0/T1, Pause/Suspend/Restore for slices), plus:
//   int num_wiener() const;                 m, the Wiener processes
//   Real* noise_mat(int j);                 n x m matrix j < Alg::kNoiseMatrices
//   Real* increments();                     m values
//   void Noise(Real t, const Real* u, Real* G);  G = g(t, u), n x m row-major
//   void Normals(Index step, Real* z);      z[j] = the standard normal of Wiener process j
//                                           at step `step` of each lane's trajectory
//                                           (philox.h: keyed by seed, global trajectory
//                                           index, step and j)
// A method (em.h, siea.h) provides
//   Step(c, t, h, sqh, u, unew, k, G, dw): one step of size h > 0 from (t, u) into unew,
//       with dw[j] = sqh z_j the step's Wiener increments (sqh = sqrt(h)); k[0..kVectors)
//       and G[0..kNoiseMatrices) are its storage.
//
// Steps lie on the grid t0 + i dt (the last one shortened to end at t1); step i draws the
// normals of step index i, so a trajectory's path depends only on (seed, its global index,
// dt, span), never on its batch, lane, thread or device. A save time inside a step saves
// the straight line between the states at the step's ends (as DiffEqGPU's GPUEM and
// GPUSIEA do): exact in distribution only at step points, so save times on the step grid
// are the ones to use for statistics; a save time at a step's end saves that step's state
// itself.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_INTEGRATE_SDE_H_
#define ENSOLVE_ENGINE_ALGORITHMS_INTEGRATE_SDE_H_

#include "engine/algorithms/hd.h"
#include "engine/algorithms/integrate.h"

namespace ensolve::alg {

// Integrates every trajectory the context hands out, from t0 to t1, with SDE method Alg.
// Controls: t0, t1, dt and max_steps (the tolerances and `adaptive` are not used).
template <class Alg, class Ctx>
ENSOLVE_HD void IntegrateSde(Ctx& c, const Controls<typename Ctx::Scalar>& o) {
  using S = typename Ctx::Scalar;
  using R = typename Ctx::Real;
  using M = typename Ctx::Mask;
  using I = typename Ctx::Index;
  static_assert(Alg::kStochastic && !Alg::kAdaptive && !Alg::kFsal, "a fixed-step SDE method");
  const int n = c.n(), m = c.num_wiener();
  R* u = c.vec(0);
  R* unew = c.vec(1);
  R* y = c.vec(2);  // a save point's state
  R* k[Alg::kVectors];
  for (int j = 0; j < Alg::kVectors; ++j) k[j] = c.vec(kDriverVectors + j);
  R* G[Alg::kNoiseMatrices];
  for (int j = 0; j < Alg::kNoiseMatrices; ++j) G[j] = c.noise_mat(j);
  R* dw = c.increments();
  const S eps = Epsilon<S>::value;

  LaneState<R, I> st{R(S(0)), R(S(0)), R(S(0)), R(S(0)), I(0), I(0), I(0), I(0), I(0), I(0)};
  M active = c.Begin(u);
  internal::LoadLanes(StaticMethod<Alg>{}, c, o, false, active, st, u, unew, y, k);

  while (Any(active)) {
    if (c.Stop()) return;
    if (internal::Pausing(0, c)) {
      internal::SuspendLanes(0, c, active, st, u, k);
      return;
    }
    const internal::Span<R> span = internal::LaneSpan<R>(c, o);
    const R t1 = span.t1;
    const R tnext = span.t0 + (st.nfixed + S(1)) * o.dt;
    const M last = (tnext - t1) >= -S(8) * eps * Abs(t1);
    const R h = Select(last, t1 - st.t, tnext - st.t);
    const R sqh = Sqrt(Abs(h));
    c.Normals(st.accepted, dw);
    for (int j = 0; j < m; ++j) dw[j] = sqh * dw[j];
    Alg::Step(c, st.t, h, sqh, u, unew, k, G, dw);
    st.rhs_evals = Select(active, st.rhs_evals + Alg::kStages, st.rhs_evals);

    // Save points in (t, t + h]: the straight line between u and unew, unew itself at the
    // step's end.
    const R tend = Select(last, t1, st.t + h);
    if (c.num_save() > 0) {
      M ms = active & Reached<M, S>(c.SaveTime(st.save), tend, R(S(1)));
      while (Any(ms)) {
        const R ts = c.SaveTime(st.save);
        const R theta = (ts - st.t) / h;
        const M at_end = ts >= tend;
        for (int i = 0; i < n; ++i) {
          y[i] = Select(at_end, unew[i], u[i] + theta * (unew[i] - u[i]));
        }
        c.Save(st.save, y, ms);
        st.save = Select(ms, st.save + 1, st.save);
        ms = ms & Reached<M, S>(c.SaveTime(st.save), tend, R(S(1)));
      }
    }

    M finite = active;
    for (int i = 0; i < n; ++i) {
      u[i] = Select(active, unew[i], u[i]);
      finite = finite & IsFinite(unew[i]);
    }
    st.t = Select(active, tend, st.t);
    st.nfixed = Select(active, st.nfixed + S(1), st.nfixed);
    st.accepted = Select(active, st.accepted + 1, st.accepted);

    const M unstable = active & !finite;
    const M done = active & last;
    const M maxed = active & !done & (st.accepted >= o.max_steps);
    const M finished = done | unstable | maxed;
    if (Any(finished)) {
      const I code =
          Select(unstable, I(kRetUnstable), Select(maxed & !done, I(kRetMaxSteps), I(kRetSuccess)));
      const M fresh = c.Retire(finished, code, st.t, u, st.accepted, st.rejected, st.rhs_evals);
      active = (active & !finished) | fresh;
      if (Any(fresh))
        internal::LoadLanes(StaticMethod<Alg>{}, c, o, false, fresh, st, u, unew, y, k);
    }
  }
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_INTEGRATE_SDE_H_
