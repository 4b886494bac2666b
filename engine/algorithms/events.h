// Events in the integration driver (integrate.h): the pieces of the step loop that find
// where a continuous event's condition crosses zero inside an accepted step, and the
// context interface they use. Semantics (docs/model-language.md, "Events"):
//   - a crossing is a change of sign of the condition between consecutive samples of an
//     accepted step (its start, kEventScanPoints interior points of the method's dense
//     output, and its end), from < 0 to >= 0 (rising along the integration) or from > 0 to
//     <= 0 (falling), or an extremum among the samples whose parabola crosses zero and
//     whose vertex confirms it (FirstCrossing). `up` / `down` are directions in t, so
//     backward integration swaps them. The samples find a condition that crosses and
//     crosses back inside one step (a ball's peak above a threshold, in a step that the
//     exactly integrated parabola lets grow to seconds), which the ends alone miss;
//   - its time is located on the method's dense output by the Illinois variant of regula
//     falsi (Dowell & Jarratt, BIT 11, 1971), to a bracket of at most kRootTolUlps ulps of
//     the step's end time; the event time is the bracket's end past the crossing, so the
//     condition there already has its new sign (or is 0) and the same crossing is not found
//     again in the next step;
//   - the earliest event of the step fires, with every other one located within the
//     tolerance of it (simultaneous events), in declaration order.
//
// The context of a model with events supplies (integrate.h detects num_events()):
//   int num_events() const;                  events of the model (a compile-time constant
//                                            on the GPU; 0 turns every event path off)
//   Real* event_values();                    4 * num_events() values per lane, the driver's:
//                                            the conditions at the lane's t, then scratch
//   void EventConditions(Real t, const Real* u, Real* g);   g[e] for every event (0 for
//                                            `at` events)
//   int EventDirection(int e) const;         +1 up, -1 down, 0 both (crossing events)
//   bool EventIsTimes(int e) const;          an `at` event
//   bool EventTerminates(int e) const;
//   Real NextStop(Real t, Real dir) const;   the first `at` time strictly after t along dir
//                                            (+-infinity along dir when none is left)
//   Mask AtStop(int e, Real ts) const;       event e (an `at` one) has the time ts
//   void ApplyEvent(int e, Real t, Real* u, Mask m);  event e's assignments, for lanes m
//                                            (its right-hand sides read the values before it)
//   void EventsFired(Mask m, Index count);   the events the lanes m fired: called just
//                                            before they Retire
#ifndef ENSOLVE_ENGINE_ALGORITHMS_EVENTS_H_
#define ENSOLVE_ENGINE_ALGORITHMS_EVENTS_H_

#include "engine/algorithms/hd.h"

namespace ensolve::alg {

// The located event time's bracket is at most this many ulps of max(|t|, |t + h|) wide.
inline constexpr int kRootTolUlps = 8;
// Interior points of an accepted step at which each crossing event's condition is sampled
// (evenly spaced in θ), as DifferentialEquations.jl's ContinuousCallback samples 10.
inline constexpr int kEventScanPoints = 7;
// Illinois iterations at most (a bisection replaces a secant point that rounding put
// outside the bracket; in practice 5 to 15 suffice).
inline constexpr int kMaxRootIterations = 64;

namespace internal {

template <class T>
ENSOLVE_HD T&& DeclVal();  // std::declval, which NVRTC lacks (only in decltype)
template <class Ctx, class = void>
struct HasEvents {
  static constexpr bool value = false;
};
template <class Ctx>
struct HasEvents<Ctx, decltype(void(DeclVal<Ctx&>().num_events()))> {
  static constexpr bool value = true;
};

// Whether the step's dense output is needed: save points, or events to locate on it.
template <class Ctx>
ENSOLVE_HD bool NeedsDenseOutput(Ctx& c) {
  if constexpr (HasEvents<Ctx>::value) {
    if (c.num_events() > 0) return true;
  }
  return c.num_save() > 0;
}

// (m & a) | (!m & b) for masks.
template <class M>
ENSOLVE_HD M SelectMask(M m, M a, M b) {
  return (m & a) | ((!m) & b);
}

// Lanes whose condition crossed zero from go (at the step's start) to gn (at its end), in
// event direction d (+1 up, -1 down, 0 both, in t) for integration direction dir.
template <class M, class S, class R>
ENSOLVE_HD M Crossed(R go, R gn, int d, R dir) {
  const M rising = (go < S(0)) & (gn >= S(0));
  const M falling = (go > S(0)) & (gn <= S(0));
  if (d == 0) return rising | falling;
  // Rising along the integration is rising in t forward, falling in t backward.
  const M forward = dir * S(d) > S(0);
  return SelectMask(forward, rising, falling);
}

// The lanes of m whose event e crosses zero (in its direction, for integration direction
// dir) in the step (t, t + h), and for them the first bracket [a, b] of θ with a crossing,
// ga and gb the condition there. The condition is sampled at θ = 0 (g0), at
// kEventScanPoints interior points of the dense output and at θ = 1 (g1); a crossing is a
// change of sign between consecutive samples, or a sample that is an extremum on the near
// side of zero whose parabola through it and its neighbours crosses zero, confirmed by the
// condition at the parabola's vertex (a condition that crosses and crosses back between
// two samples, like a ball's height about its peak, exactly so for a parabola). y and g
// scratch (n and num_events() values); `first` is Interpolate's (integrate.h), cleared here.
template <class S, class Method, class Ctx, class R, class M>
ENSOLVE_HD_OUTLINE M FirstCrossing(const Method& meth, Ctx& c, int e, M m, R dir, R t, R h,
                                   const R* u, R* const* k, R g0, R g1, R* y, R* g, bool& first,
                                   R& a, R& ga, R& b, R& gb) {
  const int d = c.EventDirection(e);
  constexpr int kIntervals = kEventScanPoints + 1;
  const S step = S(1) / S(kIntervals);
  M found = M(false);
  a = R(S(0));
  ga = g0;
  b = R(S(1));
  gb = g1;
  R gpp = g0, gp = g0;  // the samples j - 2 and j - 1
  for (int j = 1; j <= kIntervals; ++j) {
    const R thj = R(S(j) * step);
    R gj = g1;
    if (j < kIntervals) {
      meth.Interpolate(c, t, thj, h, u, k, y, first);
      first = false;
      c.EventConditions(t + thj * h, y, g);
      gj = g[e];
    }
    if (j >= 2) {
      // The parabola through samples j - 2, j - 1, j: its vertex `off` samples from j - 1.
      const R curv = gpp - S(2) * gp + gj;
      const R off = S(0.5) * (gpp - gj) / curv;
      const R top = gp - S(0.125) * (gpp - gj) * (gpp - gj) / curv;
      const M near = m & !found & (Abs(off) < S(1)) & Crossed<M, S>(gp, top, d, dir);
      if (Any(near)) {
        const R th = (R(S(j - 1)) + off) * step;
        meth.Interpolate(c, t, th, h, u, k, y, first);
        first = false;
        c.EventConditions(t + th * h, y, g);
        const M before_prev = off < S(0);  // the vertex lies before sample j - 1
        const R lo = Select(before_prev, R(S(j - 2) * step), R(S(j - 1) * step));
        const R glo = Select(before_prev, gpp, gp);
        const M hit = near & Crossed<M, S>(glo, g[e], d, dir);
        a = Select(hit, lo, a);
        ga = Select(hit, glo, ga);
        b = Select(hit, th, b);
        gb = Select(hit, g[e], gb);
        found = found | hit;
      }
    }
    const M here = m & !found & Crossed<M, S>(gp, gj, d, dir);
    a = Select(here, R(S(j - 1) * step), a);
    ga = Select(here, gp, ga);
    b = Select(here, thj, b);
    gb = Select(here, gj, gb);
    found = found | here;
    gpp = gp;
    gp = gj;
  }
  return found;
}

// θ in (a, b] where event e's condition crosses zero in the step (t, t + h) of the lanes in
// m: ga, gb its values at θ = a and b (opposite signs, gb possibly 0), y and g scratch (n
// and num_events() values). `first` is Interpolate's (integrate.h), cleared here.
template <class S, class Method, class Ctx, class R, class M>
ENSOLVE_HD_OUTLINE R LocateRoot(const Method& meth, Ctx& c, int e, M m, R t, R h, const R* u,
                                R* const* k, R a, R ga, R b, R gb, R tol, R* y, R* g, bool& first) {
  const M positive = ga > S(0);              // the sign before the crossing
  M moved_b = M(false), moved_a = M(false);  // which end the last iteration moved
  M live = m;
  for (int it = 0; it < kMaxRootIterations && Any(live); ++it) {
    R th = (a * gb - b * ga) / (gb - ga);
    const M inside = (th > a) & (th < b);  // false also for NaN
    th = Select(inside, th, S(0.5) * (a + b));
    meth.Interpolate(c, t, th, h, u, k, y, first);
    first = false;
    c.EventConditions(t + th * h, y, g);
    const R gm = g[e];
    const M past = (positive & (gm <= S(0))) | ((!positive) & (gm >= S(0)));
    const M to_b = live & past, to_a = live & !past;
    // Illinois: an end kept twice in a row has its value halved.
    ga = Select(to_b & moved_b, S(0.5) * ga, ga);
    gb = Select(to_a & moved_a, S(0.5) * gb, gb);
    b = Select(to_b, th, b);
    gb = Select(to_b, gm, gb);
    a = Select(to_a, th, a);
    ga = Select(to_a, gm, ga);
    moved_b = SelectMask(live, to_b, moved_b);
    moved_a = SelectMask(live, to_a, moved_a);
    live = live & !(b - a <= tol) & !(to_b & (gm == S(0)));
  }
  return b;
}

// The step (t, t + h) of the lanes m, ending at tend with state unew, against the events:
// each event's θ into the context's event_values() (layout below; 2: none) and the
// earliest returned, with the root tolerance in θ into `tol`. An `at` event is at θ = 1
// where the step ends on its stop (`stop`, at tstop); a crossing is found (FirstCrossing)
// and located (LocateRoot) on meth's dense output from the conditions at t (kept in
// event_values()) and at tend, which then replace them for the lanes m. scan() runs before
// each crossing event's samples (the driver charges lazy interpolation stages there); y is
// scratch (n values), `first` is Interpolate's.
//
// event_values(), 4 x num_events() values per lane: the conditions where the lane stands,
// those at the step's end, each event's θ in the step, scratch.
template <class S, class Method, class Ctx, class R, class M, class Scan>
ENSOLVE_HD R FindEvents(const Method& meth, Ctx& c, M m, M stop, R tstop, R dir, R t, R h, R tend,
                        const R* u, const R* unew, R* const* k, R* y, bool& first, R& tol,
                        Scan scan) {
  const int ne = c.num_events();
  R* g = c.event_values();
  R* gn = g + ne;
  R* th = g + 2 * ne;
  R* gs = g + 3 * ne;
  c.EventConditions(tend, unew, gn);
  tol = S(kRootTolUlps) * Epsilon<S>::value * Max(Abs(t), Abs(tend)) / Abs(h);
  R thbest = R(S(2));
  for (int e = 0; e < ne; ++e) {
    th[e] = R(S(2));
    if (c.EventIsTimes(e)) {
      th[e] = Select(m & stop & c.AtStop(e, tstop), R(S(1)), th[e]);
    } else if (Any(m)) {
      scan();
      R a, ga, b, gb;  // the first bracket with a crossing
      const M crossed =
          FirstCrossing<S>(meth, c, e, m, dir, t, h, u, k, g[e], gn[e], y, gs, first, a, ga, b, gb);
      if (Any(crossed)) {
        const R root =
            LocateRoot<S>(meth, c, e, crossed, t, h, u, k, a, ga, b, gb, tol, y, gs, first);
        th[e] = Select(crossed, root, th[e]);
      }
    }
    thbest = Min(thbest, th[e]);
    g[e] = Select(m, gn[e], g[e]);
  }
  return thbest;
}

// Fires the events at te of the lanes m (as FindEvents left event_values(), returning
// thbest and tol) in declaration order, counting them in `events`, and returns the lanes a
// `terminate` ended (later events do not fire for them). Then clears `finite` where an
// assignment left a state non-finite, and sets the conditions where the lanes stand.
template <class Ctx, class R, class M, class I>
ENSOLVE_HD M FireEvents(Ctx& c, M m, R te, R* u, R thbest, R tol, I& events, M& finite) {
  const int ne = c.num_events(), n = c.n();
  R* g = c.event_values();
  const R* th = g + 2 * ne;
  R* gs = g + 3 * ne;
  M terminated = M(false);
  M go = m;
  for (int e = 0; e < ne; ++e) {
    const M fire = go & (th[e] <= thbest + tol);
    if (!Any(fire)) continue;
    c.ApplyEvent(e, te, u, fire);
    events = Select(fire, events + 1, events);
    if (c.EventTerminates(e)) {
      terminated = terminated | fire;
      go = go & !fire;
    }
  }
  for (int i = 0; i < n; ++i) finite = finite & ((!m) | IsFinite(u[i]));
  c.EventConditions(te, u, gs);
  for (int e = 0; e < ne; ++e) g[e] = Select(m, gs[e], g[e]);
  return terminated;
}

}  // namespace internal
}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_EVENTS_H_
