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
//
// Events (a context with events.h's interface): an `at` time cuts the step it falls in
// (the grid goes on after it; the cut step draws the normals of the next step index, so
// the path stays a function of the trajectory alone); a crossing is found and located, as
// integrate.h does on a method's dense output, on the straight line between the step's
// ends: the trajectory lands there, the events fire, and the next step goes from the event
// time to the grid point. The located time is exact for that line; where the path itself
// first crosses inside a step is not resolved (the path is nowhere differentiable), so a
// crossing's time is known to within about a step.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_INTEGRATE_SDE_H_
#define ENSOLVE_ENGINE_ALGORITHMS_INTEGRATE_SDE_H_

#include "engine/algorithms/hd.h"
#include "engine/algorithms/integrate.h"

namespace ensolve::alg {

namespace internal {

// The straight line from a step's start u to its end k[0], as a method's dense output:
// what an SDE step's save points and events see.
struct LinearPath {
  template <class Ctx, class R>
  ENSOLVE_HD void Interpolate(Ctx& c, R /*t*/, R theta, R /*h*/, const R* u, R* const* k, R* y,
                              bool /*first*/) const {
    const int n = c.n();
    for (int i = 0; i < n; ++i) y[i] = u[i] + theta * (k[0][i] - u[i]);
  }
};

}  // namespace internal

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

  // Events: compiled only for a context that has them, run only for a model that has them.
  constexpr bool kEventCode = internal::HasEvents<Ctx>::value;
  int ne = 0;
  if constexpr (kEventCode) ne = c.num_events();
  const internal::LinearPath line;
  R* const path[1] = {unew};  // the line's end, as LinearPath reads it

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
    M last = (tnext - t1) >= -S(8) * eps * Abs(t1);
    R h = Select(last, t1 - st.t, tnext - st.t);
    M stop = M(false);  // this step ends on tstop, an `at` time
    M grid = M(true);   // this step ends on its grid point
    R tstop = t1;
    if constexpr (kEventCode) {
      if (ne > 0) {
        // As integrate.h's fixed steps: a stop before the grid point cuts the step there
        // (the grid goes on after it, the cut step drawing its own normals); one on the
        // grid point (to 8 ulps) is landed on exactly.
        tstop = c.NextStop(st.t, R(S(1)));
        const R tgrid = st.t + h;
        const R slack = S(8) * eps * Abs(tgrid);
        const M cut = (tstop - tgrid) < -slack;
        stop = cut | ((tstop - tgrid) <= slack);
        h = Select(stop, tstop - st.t, h);
        last = last & !cut;
        grid = !cut;
      }
    }
    const R sqh = Sqrt(Abs(h));
    c.Normals(st.accepted, dw);
    for (int j = 0; j < m; ++j) dw[j] = sqh * dw[j];
    Alg::Step(c, st.t, h, sqh, u, unew, k, G, dw);
    st.rhs_evals = Select(active, st.rhs_evals + Alg::kStages, st.rhs_evals);

    R tend = Select(last, t1, st.t + h);
    if (kEventCode && ne > 0) tend = Select(last, t1, Select(stop, tstop, tend));
    // Events (events.h), located on the straight line between the step's ends (the path
    // save points see): the earliest, at te; the lanes where it is inside the step end
    // there (`cut`).
    M evented = M(false), cut = M(false);
    R te = tend, thbest = R(S(2)), tol = R(S(0));
    if constexpr (kEventCode) {
      if (ne > 0) {
        bool first = true;  // LinearPath's Interpolate ignores it
        thbest = internal::FindEvents<S>(line, c, active, stop, tstop, R(S(1)), st.t, h, tend, u,
                                         unew, path, y, first, tol, [] {});
        evented = thbest <= S(1);
        cut = evented & (thbest < S(1) - tol);  // within the tolerance of the end: at the end
        te = Select(cut, st.t + thbest * h, tend);
      }
    }

    // Save points in (t, te]: the straight line between u and unew, unew itself at the
    // step's end.
    if (c.num_save() > 0) {
      M ms = active & Reached<M, S>(c.SaveTime(st.save), te, R(S(1)));
      while (Any(ms)) {
        const R ts = c.SaveTime(st.save);
        const R theta = (ts - st.t) / h;
        const M at_end = (ts >= tend) & !cut;
        for (int i = 0; i < n; ++i) {
          y[i] = Select(at_end, unew[i], u[i] + theta * (unew[i] - u[i]));
        }
        c.Save(st.save, y, ms);
        st.save = Select(ms, st.save + 1, st.save);
        ms = ms & Reached<M, S>(c.SaveTime(st.save), te, R(S(1)));
      }
    }

    M finite = active;
    for (int i = 0; i < n; ++i) {
      const R landed = Select(cut, u[i] + thbest * (unew[i] - u[i]), unew[i]);
      u[i] = Select(active, landed, u[i]);
      finite = finite & IsFinite(landed);
    }
    st.t = Select(active, te, st.t);
    st.nfixed = Select(active & grid & !cut, st.nfixed + S(1), st.nfixed);
    st.accepted = Select(active, st.accepted + 1, st.accepted);
    last = last & !cut;

    // The events at te, in declaration order.
    M terminated = M(false);
    if constexpr (kEventCode) {
      if (ne > 0 && Any(evented)) {
        terminated = internal::FireEvents(c, evented, te, u, thbest, tol, st.events, finite);
      }
    }

    const M unstable = active & !finite;
    const M done = (active & last) | terminated;
    const M maxed = active & !done & (st.accepted >= o.max_steps);
    const M finished = done | unstable | maxed;
    if (Any(finished)) {
      const I code = Select(unstable, I(kRetUnstable),
                            Select(terminated, I(kRetTerminated),
                                   Select(maxed & !done, I(kRetMaxSteps), I(kRetSuccess))));
      internal::RecordEvents(c, finished, st.events);
      const M fresh = c.Retire(finished, code, st.t, u, st.accepted, st.rejected, st.rhs_evals);
      active = (active & !finished) | fresh;
      if (Any(fresh))
        internal::LoadLanes(StaticMethod<Alg>{}, c, o, false, fresh, st, u, unew, y, k);
    }
  }
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_INTEGRATE_SDE_H_
