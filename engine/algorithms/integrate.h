// The integration driver shared by every backend: step, control the error, save through
// dense output, detect the end of each trajectory. Written once for any lane model:
//   - GPU and host reference: Real = float/double, Mask = bool, Index = int (one trajectory);
//   - CPU backend: Real = a pack of W lanes, Mask/Index = packs too (W trajectories at once,
//     each with its own t, step size and accept/reject decision).
//
// The context `Ctx` supplies the model and the storage:
//   using Scalar = float | double;  using Real; using Mask; using Index;
//   int n() const;                          number of states
//   Real* vec(int j);                       vector j < kDriverVectors + Alg::kVectors, n long
//   void Rhs(Real t, const Real* u, Real* du);
//   int num_save() const;                   saveat points (0: final state only)
//   Real SaveTime(Index i) const;           saveat[i]; +infinity when i >= num_save()
//   void Save(Index i, const Real* y, Mask m);       y is the state at save point i (lanes m)
//   Mask Begin(Real* u);                    loads initial states; lanes holding a trajectory
//   Mask Retire(Mask done, Index code, Real t, const Real* u, Index accepted,
//               Index rejected, Index rhs_evals);
//                                           records finished lanes (t: the time reached);
//                                           may load new trajectories into those lanes' u
//                                           and returns them (else false)
//   bool Stop();                            true to abandon the batch (cancellation)
// optionally, for per-trajectory time spans (otherwise every trajectory runs from o.t0 to
// o.t1):
//   Real T0() const;  Real T1() const;      the span of the trajectories the lanes hold
//                                           (read right after Begin/Retire loaded them)
// and optionally, for batches cut into slices (a context without them runs to the end):
//   bool Pause();                           true to stop here and resume later: the driver
//                                           then Suspend()s every active lane and returns
//   void Suspend(Mask m, const LaneState<Real, Index>& st, const Real* u, Real* const* k);
//                                           keeps where the lanes in m stand (st, u and the
//                                           method's k[0..kVectors))
//   Mask Restore(Mask fresh, LaneState<Real, Index>& st, Real* u, Real* const* k);
//                                           of the lanes Begin/Retire just loaded, those
//                                           that continue a suspended trajectory: their st,
//                                           u and k[] as Suspend kept them; the others
//                                           start afresh
// and, for methods whose table row asks for them (Alg::kJacobian, kTimeDerivative,
// kMatrices > 0):
//   void Jacobian(Real t, const Real* u, Real* J);        J = df/du, n x n row-major
//   void TimeDerivative(Real t, const Real* u, Real* dT); dT = df/dt
//   Real* mat(int j);                       matrix j < Alg::kMatrices, n x n
//   Index* pivots();                        n pivot indices for linsolve.h
//
// A method (euler.h, tsit5.h, ...) declares its facts as static constants (the columns of
// table.h's AlgorithmInfo) and provides
//   Step(c, t, h, u, unew, err, k, fail): one step of size h (negative when integrating
//       backward) from (t, u) into unew, with err = the local error estimate if adaptive;
//       k[0..kVectors) is its storage, k[0] = f(t, u) on entry if kFsal, and
//       k[kFsalStage] = f(t + h, unew) on return. Lanes whose step could not be computed
//       (a singular iteration matrix, a diverged Newton iteration) are or-ed into `fail`.
//   Interpolate(c, t, theta, h, u, k, y, first): y = u(t + theta h) from the last step's
//       data (called only for accepted lanes' save points, before u becomes unew). `first`
//       is true at the step's first save point: a method whose interpolant needs extra
//       stages (vern7, vern9) evaluates them then with c.Rhs, at t + c_i h, into its own
//       k[] vectors, and reuses them for the step's later save points, so a step without
//       save points never pays for them. (Every lane of a pack evaluates them together;
//       each lane with a save point in the step is charged Alg::kLazyStages evaluations,
//       optional, 0 when absent.)
// A method whose stages are solved by an iteration (esdirk.h: Newton) instead provides
//   Step(c, t, h, u, unew, err, k, fail, StepControls<Scalar, Index>& sc)
// and the driver calls that one: sc carries the tolerances the iteration converges to and
// sc.extra_evals, to which the step adds, per lane, the right-hand side evaluations it made
// beyond kStages (kStages is then the fewest a step makes), and sc.steps, the steps the
// lane's trajectory has made before this one (0: its first, where data a method carries from
// step to step in its k[] vectors is not yet there: a lane of a pack may just have been
// refilled with a new trajectory).
//
// and, for models with events, the interface of events.h (num_events() and the rest): after
// each accepted step the driver finds the earliest event in it (events.h), saves the save
// points before it, moves the lane to the event time with the interpolated state, applies
// the event's assignments (or retires the lane, kRetTerminated, at the event time), and
// restarts the method there: f(t, u) recomputed for FSAL methods, the step controller's
// memory reset and StepControls::steps = 0 for the next step. `at` times are step stops:
// an adaptive step is shortened to end on one; a fixed step too, after which the run
// continues on its grid t0 + i dt (the step after the stop ends on the next grid point).
// A context without num_events() (or with 0 events) runs none of this.
//
// Backward integration (t1 < t0) runs with negative steps; save times must then be
// descending. Every comparison with t is made along the direction of integration, which
// is per lane (each trajectory may have its own span).
#ifndef ENSOLVE_ENGINE_ALGORITHMS_INTEGRATE_H_
#define ENSOLVE_ENGINE_ALGORITHMS_INTEGRATE_H_

#include "engine/algorithms/controller.h"
#include "engine/algorithms/events.h"
#include "engine/algorithms/hd.h"

namespace ensolve::alg {

// u, unew, err (also stage and interpolation scratch); the method's k[] follow.
inline constexpr int kDriverVectors = 3;

template <class S>
struct Controls {
  S t0, t1;  // the span of every trajectory, unless the context gives its own (T0, T1)
  S dt;      // fixed step, or the initial step of an adaptive run (0: automatic)
  S abstol, reltol;
  S dtmin;  // 0: a few ulps of t
  int max_steps;
  bool adaptive;
};

template <class R, class I>
struct LaneState {
  R t, h, log_qold, nfixed;
  I accepted, rejected, rhs_evals, save;
  I events;   // events fired so far
  I restart;  // 1: the next step is the first after an event (StepControls::steps = 0)
};

// Whether save time ts (infinite past the last one) lies at or before tend along dir.
template <class M, class S, class R>
ENSOLVE_HD M Reached(R ts, R tend, R dir) {
  return M(IsFinite(ts)) & M((ts - tend) * dir <= S(0));
}

// For methods with an iterative stage solve (see the contract above).
template <class S, class I>
struct StepControls {
  S abstol, reltol;
  bool adaptive;  // false: a fixed step; the tolerances are then no accuracy target
  I extra_evals;  // per lane: right-hand side evaluations this step made beyond kStages
  I steps;        // per lane: steps (accepted and rejected) the trajectory made before this one;
                  // 0 also for the first step after an event
};

namespace internal {

// Calls the method's Step with StepControls when it takes them (overload resolution
// prefers the int parameter), else the plain Step.
template <class Alg, class Ctx, class R, class M, class S, class I>
ENSOLVE_HD auto CallStep(int, Ctx& c, R t, R h, const R* u, R* unew, R* err, R* const* k, M& fail,
                         StepControls<S, I>& sc)
    -> decltype(Alg::Step(c, t, h, u, unew, err, k, fail, sc)) {
  return Alg::Step(c, t, h, u, unew, err, k, fail, sc);
}
template <class Alg, class Ctx, class R, class M, class S, class I>
ENSOLVE_HD void CallStep(long, Ctx& c, R t, R h, const R* u, R* unew, R* err, R* const* k, M& fail,
                         StepControls<S, I>&) {
  Alg::Step(c, t, h, u, unew, err, k, fail);
}
// The span of the trajectories in the lanes: the context's own (T0, T1) when it has them
// (overload resolution prefers the int parameter), else the one of the controls.
template <class R, class Ctx, class S>
ENSOLVE_HD auto SpanStart(int, const Ctx& c, const Controls<S>&) -> decltype(c.T0()) {
  return c.T0();
}
template <class R, class Ctx, class S>
ENSOLVE_HD R SpanStart(long, const Ctx&, const Controls<S>& o) {
  return R(o.t0);
}
template <class R, class Ctx, class S>
ENSOLVE_HD auto SpanEnd(int, const Ctx& c, const Controls<S>&) -> decltype(c.T1()) {
  return c.T1();
}
template <class R, class Ctx, class S>
ENSOLVE_HD R SpanEnd(long, const Ctx&, const Controls<S>& o) {
  return R(o.t1);
}
// The lanes' spans and directions (+1 forward, -1 backward), read where they are needed
// rather than kept in the lane state: a GPU thread with a shared span reads them from its
// launch parameters and holds no register for them.
template <class R>
struct Span {
  R t0, t1, dir;
};
template <class R, class Ctx, class S>
ENSOLVE_HD Span<R> LaneSpan(const Ctx& c, const Controls<S>& o) {
  const R t0 = SpanStart<R>(0, c, o), t1 = SpanEnd<R>(0, c, o);
  return Span<R>{t0, t1, Select(t1 >= t0, R(S(1)), R(S(-1)))};
}

// Pause(), Suspend() and Restore() of a context that cuts batches into slices; a context
// without them never pauses.
template <class Ctx>
ENSOLVE_HD auto Pausing(int, Ctx& c) -> decltype(c.Pause()) {
  return c.Pause();
}
template <class Ctx>
ENSOLVE_HD bool Pausing(long, Ctx&) {
  return false;
}
template <class Ctx, class M, class R, class I>
ENSOLVE_HD auto SuspendLanes(int, Ctx& c, M m, const LaneState<R, I>& st, const R* u, R* const* k)
    -> decltype(c.Suspend(m, st, u, k)) {
  c.Suspend(m, st, u, k);
}
template <class Ctx, class M, class R, class I>
ENSOLVE_HD void SuspendLanes(long, Ctx&, M, const LaneState<R, I>&, const R*, R* const*) {}
template <class Ctx, class M, class R, class I>
ENSOLVE_HD auto RestoreLanes(int, Ctx& c, M fresh, LaneState<R, I>& st, R* u, R* const* k)
    -> decltype(c.Restore(fresh, st, u, k)) {
  return c.Restore(fresh, st, u, k);
}
template <class Ctx, class M, class R, class I>
ENSOLVE_HD M RestoreLanes(long, Ctx&, M, LaneState<R, I>&, R*, R* const*) {
  return M(false);
}

// Alg::kLazyStages, the right-hand side evaluations Interpolate adds in a step with save
// points (vern7, vern9), or 0 for a method that does not declare it.
template <class Alg, class = void>
struct LazyStages {
  static constexpr int value = 0;
};
template <class Alg>
struct LazyStages<Alg, decltype(void(Alg::kLazyStages))> {
  static constexpr int value = Alg::kLazyStages;
};

// Saves u at every save point <= t for lanes in m (used at t0).
template <class S, class Ctx, class R, class M, class I>
ENSOLVE_HD void SaveReached(Ctx& c, M m, I& save, R t, const R* u, R dir) {
  m = m & Reached<M, S>(c.SaveTime(save), t, dir);
  while (Any(m)) {
    c.Save(save, u, m);
    save = Select(m, save + 1, save);
    m = m & Reached<M, S>(c.SaveTime(save), t, dir);
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

// Starts the lanes in m at their t0: counters, saves at t0, f(t0, u0) for methods
// that carry it, and the first step size (Hairer, Norsett & Wanner, "Solving ODEs I", II.4, the
// starting step size algorithm).
template <class Method, class Ctx, class R, class M, class I, class S>
ENSOLVE_HD void StartLanes(const Method& meth, Ctx& c, const Controls<S>& o, bool adaptive, M m,
                           LaneState<R, I>& st, R* u, R* unew, R* err, R* const* k) {
  const int n = c.n();
  const Span<R> span = LaneSpan<R>(c, o);
  st.t = Select(m, span.t0, st.t);
  st.log_qold = Select(m, R(S(kLogQoldInit)), st.log_qold);
  st.nfixed = Select(m, R(S(0)), st.nfixed);
  st.accepted = Select(m, I(0), st.accepted);
  st.rejected = Select(m, I(0), st.rejected);
  st.rhs_evals = Select(m, I(0), st.rhs_evals);
  st.save = Select(m, I(0), st.save);
  st.events = Select(m, I(0), st.events);
  st.restart = Select(m, I(0), st.restart);
  const R dir = span.dir;
  SaveReached<S>(c, m, st.save, st.t, u, dir);
  if (!meth.fsal && !(adaptive && o.dt <= S(0))) {
    st.h = Select(m, dir * o.dt, st.h);
    return;
  }
  // f0 into err, then into k[0] for these lanes only (others keep their FSAL stage).
  c.Rhs(st.t, u, err);
  for (int i = 0; i < n; ++i) k[0][i] = Select(m, err[i], k[0][i]);
  st.rhs_evals = Select(m, st.rhs_evals + 1, st.rhs_evals);
  if (!(adaptive && o.dt <= S(0))) {
    st.h = Select(m, dir * o.dt, st.h);
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
  const R length = Abs(span.t1 - span.t0);
  R h0 = Select((d0 < S(1e-5)) | (d1 < S(1e-5)), R(S(1e-6)), S(0.01) * d0 / d1);
  h0 = Min(h0, length);
  for (int i = 0; i < n; ++i) unew[i] = u[i] + dir * h0 * k[0][i];
  R* f1 = k[1];
  c.Rhs(st.t + dir * h0, unew, f1);
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
                      Pow(S(0.01) / dmax, S(1) / S(meth.order)));
  st.h = Select(m, dir * Min(Min(S(100) * h0, h1), length), st.h);
}

// Lanes the context just loaded (fresh): suspended trajectories continue where they
// stood, the others start at their t0.
template <class Method, class Ctx, class R, class M, class I, class S>
ENSOLVE_HD void LoadLanes(const Method& meth, Ctx& c, const Controls<S>& o, bool adaptive, M fresh,
                          LaneState<R, I>& st, R* u, R* unew, R* err, R* const* k) {
  const M resumed = RestoreLanes(0, c, fresh, st, u, k);
  const M start = fresh & !resumed;
  if (Any(start)) StartLanes(meth, c, o, adaptive, start, st, u, unew, err, k);
  if constexpr (HasEvents<Ctx>::value) {
    // The conditions where the lanes stand (a resumed lane's too: they are a function of
    // its t, u and parameters, so a sliced run continues bitwise).
    const int ne = c.num_events();
    if (ne > 0) {
      R* g = c.event_values();
      R* gs = g + 3 * ne;
      c.EventConditions(st.t, u, gs);
      for (int e = 0; e < ne; ++e) g[e] = Select(fresh, gs[e], g[e]);
    }
  }
}

// The events of a context with them, before its lanes m retire.
template <class Ctx, class M, class I>
ENSOLVE_HD void RecordEvents(Ctx& c, M m, I events) {
  if constexpr (HasEvents<Ctx>::value) {
    if (c.num_events() > 0) c.EventsFired(m, events);
  }
}

}  // namespace internal

// What the driver below needs of a method (the contract above), as the same names whether
// they are compile-time constants or run-time values:
//   adaptive, fsal, fsal_stage, order, stages, lazy_stages, vectors (Alg::kAdaptive, ...),
//   kMaxVectors, a compile-time bound on vectors, and Step and Interpolate.
// StaticMethod<Alg> holds them as constants: the GPU kernel and the host reference inline
// the whole method into one driver per method. DynamicMethod<Ctx> (dynamic_method.h) holds
// them as values and the method's Step and Interpolate as pointers, so that the CPU backend
// compiles the driver once per lane context and not once per method (the driver of each
// of 17 methods, for 2 precisions and 3 instruction sets, was half of the CPU backend's
// code and of its build time).
template <class Alg>
struct StaticMethod {
  static_assert(!Alg::kAdaptive || Alg::kVectors >= 2, "the initial step needs k[0], k[1]");
  static constexpr bool adaptive = Alg::kAdaptive;
  static constexpr bool fsal = Alg::kFsal;
  static constexpr int fsal_stage = Alg::kFsalStage;
  static constexpr int order = Alg::kOrder;
  static constexpr int stages = Alg::kStages;
  static constexpr int lazy_stages = internal::LazyStages<Alg>::value;
  static constexpr int vectors = Alg::kVectors;
  static constexpr int kMaxVectors = Alg::kVectors;

  template <class Ctx, class R, class M, class S, class I>
  ENSOLVE_HD static void Step(Ctx& c, R t, R h, const R* u, R* unew, R* err, R* const* k, M& fail,
                              StepControls<S, I>& sc) {
    internal::CallStep<Alg>(0, c, t, h, u, unew, err, k, fail, sc);
  }
  template <class Ctx, class R>
  ENSOLVE_HD static void Interpolate(Ctx& c, R t, R theta, R h, const R* u, R* const* k, R* y,
                                     bool first) {
    Alg::Interpolate(c, t, theta, h, u, k, y, first);
  }
};

// Integrates every trajectory the context hands out, from t0 to t1, with the method `meth`
// (a StaticMethod or a DynamicMethod).
template <class Method, class Ctx>
ENSOLVE_HD void IntegrateMethod(Ctx& c, const Controls<typename Ctx::Scalar>& o,
                                const Method& meth) {
  using S = typename Ctx::Scalar;
  using R = typename Ctx::Real;
  using M = typename Ctx::Mask;
  using I = typename Ctx::Index;
  const int n = c.n();
  const bool adaptive = meth.adaptive && o.adaptive;
  R* u = c.vec(0);
  R* unew = c.vec(1);
  R* err = c.vec(2);
  R* k[Method::kMaxVectors];
  for (int j = 0; j < meth.vectors; ++j) k[j] = c.vec(kDriverVectors + j);
  const S eps = Epsilon<S>::value;
  // Events: compiled only for a context that has them, run only for a model that has them.
  constexpr bool kEventCode = internal::HasEvents<Ctx>::value;
  int ne = 0;
  if constexpr (kEventCode) ne = c.num_events();

  LaneState<R, I> st{R(S(0)), R(S(0)), R(S(0)), R(S(0)), I(0), I(0), I(0), I(0), I(0), I(0)};
  M active = c.Begin(u);
  internal::LoadLanes(meth, c, o, adaptive, active, st, u, unew, err, k);

  while (Any(active)) {
    if (c.Stop()) return;
    if (internal::Pausing(0, c)) {
      internal::SuspendLanes(0, c, active, st, u, k);
      return;
    }
    // This step's size; the last one lands exactly on t1 (backward: negative steps), a step
    // that reaches an `at` time (`stop`) exactly on it.
    const internal::Span<R> span = internal::LaneSpan<R>(c, o);
    const R t1 = span.t1;
    const R dir = span.dir;
    R h;
    M last;
    M stop = M(false);  // this step ends on tstop
    M grid = M(true);   // a fixed step that ends on its grid point
    R tstop = t1;
    if constexpr (kEventCode) {
      if (ne > 0) tstop = c.NextStop(st.t, dir);
    }
    if (adaptive) {
      if (kEventCode && ne > 0) {
        const R tlim = Select((tstop - t1) * dir < S(0), tstop, t1);
        const M reach = (st.t + st.h * S(1.01) - tlim) * dir >= S(0);
        h = Select(reach, tlim - st.t, st.h);
        last = reach & (tlim == t1);
        stop = reach & (tstop == tlim);
      } else {
        last = (st.t + st.h * S(1.01) - t1) * dir >= S(0);
        h = Select(last, t1 - st.t, st.h);
      }
    } else {
      const R tnext = span.t0 + (st.nfixed + S(1)) * (dir * o.dt);
      last = (tnext - t1) * dir >= -S(8) * eps * Abs(t1);
      h = Select(last, t1 - st.t, tnext - st.t);
      if (kEventCode && ne > 0) {
        // A stop before the grid point cuts the step there (the grid goes on after it); one
        // on the grid point (to 8 ulps) is landed on exactly.
        const R tgrid = st.t + h;
        const R slack = S(8) * eps * Abs(tgrid);
        const M cut = (tstop - tgrid) * dir < -slack;
        stop = cut | ((tstop - tgrid) * dir <= slack);
        h = Select(stop, tstop - st.t, h);
        last = last & !cut;
        grid = !cut;
      }
    }
    M fail = M(false);
    StepControls<S, I> sc{o.abstol, o.reltol, adaptive, I(0), st.accepted + st.rejected};
    if (kEventCode && ne > 0) sc.steps = Select(st.restart == 1, I(0), sc.steps);
    meth.Step(c, st.t, h, u, unew, err, k, fail, sc);
    st.rhs_evals = Select(active, st.rhs_evals + meth.stages + sc.extra_evals, st.rhs_evals);
    if (kEventCode && ne > 0) st.restart = Select(active, I(0), st.restart);

    // A step that could not be computed is rejected (a smaller step may succeed) when the
    // step size is free; at a fixed step it ends the trajectory.
    M accept = active & !fail;
    R q = R(S(0));
    if (adaptive) {
      q = Select(fail, R(S(1e30)), internal::ErrorNorm(c, err, u, unew, o.abstol, o.reltol));
      accept = accept & IsFinite(q) & (q <= S(1));
    }

    const R tend = st.t + h;
    // Where an accepted step lands: t1, the stop, or t + h.
    R tland = Select(last, t1, tend);
    if (kEventCode && ne > 0) tland = Select(last, t1, Select(stop, tstop, tend));
    bool first =
        true;  // Interpolate's: lanes only leave ms, so the first call covers every later one
    M charged = M(false);  // lanes charged for the step's lazy stages
    R tsave = tend;        // the step's save points are those up to here

    // Events: the earliest in the step (events.h), its time te and the state there.
    M evented = M(false);  // lanes where events fire at te
    R te = tend, thbest = R(S(2)), tol = R(S(0));
    if constexpr (kEventCode) {
      if (ne > 0) {
        thbest = internal::FindEvents<S>(
            meth, c, accept, stop, tstop, dir, st.t, h, tend, u, unew, k, err, first, tol, [&] {
              if (meth.lazy_stages > 0) {  // the scan interpolates
                st.rhs_evals =
                    Select(accept & !charged, st.rhs_evals + meth.lazy_stages, st.rhs_evals);
                charged = charged | accept;
              }
            });
        evented = thbest <= S(1);
        if (Any(evented)) {
          // An event within the tolerance of the step's end happens at its end.
          const M cut = evented & (thbest < S(1) - tol);
          te = Select(cut, st.t + thbest * h, tland);
          if (Any(cut)) {
            meth.Interpolate(c, st.t, Select(cut, thbest, R(S(1))), h, u, k, err, first);
            first = false;
            for (int i = 0; i < n; ++i) unew[i] = Select(cut, err[i], unew[i]);
            tsave = Select(cut, te, tend);
            tland = Select(cut, te, tland);
            last = last & !cut;
            stop = stop & !cut;
            grid = grid & !cut;
          }
        }
      }
    }

    // Dense output for every save point this step passed. (A context whose num_save() is
    // a compile-time 0 drops this block: the GPU's final-state-only kernels.)
    if (c.num_save() > 0) {
      M ms = accept & Reached<M, S>(c.SaveTime(st.save), tsave, dir);
      bool charge = meth.lazy_stages > 0;  // once, for lanes not yet charged
      while (Any(ms)) {
        const R theta = (c.SaveTime(st.save) - st.t) / h;
        meth.Interpolate(c, st.t, theta, h, u, k, err, first);
        if (charge) {
          st.rhs_evals = Select(ms & !charged, st.rhs_evals + meth.lazy_stages, st.rhs_evals);
          charge = false;
        }
        first = false;
        c.Save(st.save, err, ms);
        st.save = Select(ms, st.save + 1, st.save);
        ms = ms & Reached<M, S>(c.SaveTime(st.save), tsave, dir);
      }
    }

    M finite = accept;
    for (int i = 0; i < n; ++i) {
      u[i] = Select(accept, unew[i], u[i]);
      finite = finite & IsFinite(unew[i]);
      if (meth.fsal) k[0][i] = Select(accept, k[meth.fsal_stage][i], k[0][i]);
    }
    st.t = Select(accept, tland, st.t);
    st.nfixed = Select(kEventCode && ne > 0 ? accept & grid : accept, st.nfixed + S(1), st.nfixed);
    st.accepted = Select(accept, st.accepted + 1, st.accepted);
    st.rejected = Select(active & !accept, st.rejected + 1, st.rejected);

    // The events at te, in declaration order, then the method restarts there.
    M terminated = M(false);
    if constexpr (kEventCode) {
      if (ne > 0 && Any(evented)) {
        terminated = internal::FireEvents(c, evented, te, u, thbest, tol, st.events, finite);
        const M restarted = evented & !terminated;
        if (meth.fsal && Any(restarted)) {
          c.Rhs(te, u, err);
          for (int i = 0; i < n; ++i) k[0][i] = Select(restarted, err[i], k[0][i]);
          st.rhs_evals = Select(restarted, st.rhs_evals + 1, st.rhs_evals);
        }
        st.restart = Select(restarted, I(1), st.restart);
      }
    }

    M too_small = M(false);
    M singular = M(false);
    if (adaptive) {
      const R hnew = NextStepSize<S>(q, h, accept, st.log_qold, meth.order);
      st.h = Select(active, hnew, st.h);
      // A few ulps of the current t (not of t1: a stiff transient near t0 = 0 needs steps
      // far below t1's ulps, in float32 especially), and never a zero step.
      const R dtmin = Max(R(o.dtmin), S(4) * eps * Abs(st.t));
      too_small = active & !(accept & last) & ((Abs(hnew) < dtmin) | !(Abs(hnew) > S(0)));
    } else {
      singular = active & fail;
    }
    if constexpr (kEventCode) {
      // The controller restarts after an event, with a step no longer than the one that
      // reached the event: a solution the method integrates exactly (the ball's parabola)
      // grows the step tenfold per step, and the first step after a bounce could otherwise
      // jump over the whole next arc (a double crossing, which no sign change shows).
      const M restarted = evented & !terminated;
      st.log_qold = Select(restarted, R(S(kLogQoldInit)), st.log_qold);
      if (adaptive) {
        const R cap = Abs(thbest * h);
        st.h = Select(restarted & (Abs(st.h) > cap), dir * cap, st.h);
      }
      too_small = too_small & !terminated;
    }

    const M unstable = accept & !finite;
    const M done = (accept & last) | terminated;
    const M maxed = active & !done & ((st.accepted + st.rejected) >= o.max_steps);
    const M finished = done | unstable | maxed | too_small | singular;
    if (Any(finished)) {
      const I code =
          Select(unstable, I(kRetUnstable),
                 Select(terminated, I(kRetTerminated),
                        Select(singular, I(kRetSingular),
                               Select(too_small, I(kRetDtBelowMin),
                                      Select(maxed & !done, I(kRetMaxSteps), I(kRetSuccess))))));
      internal::RecordEvents(c, finished, st.events);
      const M fresh = c.Retire(finished, code, st.t, u, st.accepted, st.rejected, st.rhs_evals);
      active = (active & !finished) | fresh;
      if (Any(fresh)) internal::LoadLanes(meth, c, o, adaptive, fresh, st, u, unew, err, k);
    }
  }
}

// Integrates every trajectory the context hands out, from t0 to t1, with the method Alg.
template <class Alg, class Ctx>
ENSOLVE_HD void Integrate(Ctx& c, const Controls<typename Ctx::Scalar>& o) {
  IntegrateMethod(c, o, StaticMethod<Alg>{});
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_INTEGRATE_H_
