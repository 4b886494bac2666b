// The CPU backend's side of a model's events (engine/algorithms/events.h): the conditions'
// tape over the pack, each event's assigned values, the `at` times, and the lanes' own
// copies of parameters that events assign.
#ifndef ENSOLVE_ENGINE_CPU_LANE_EVENTS_H_
#define ENSOLVE_ENGINE_CPU_LANE_EVENTS_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "engine/cpu/pack.h"
#include "engine/cpu/tape_eval.h"
#include "engine/ir/tape.h"

namespace ensolve::cpu {

// One event, as the lane context reads it (plain data: the same for every instruction set's
// build of the solve code).
struct EventInfo {
  bool times = false;  // an `at` event
  int direction = 0;   // crossing events: +1 up, -1 down, 0 both
  bool terminate = false;
  const double* at = nullptr;  // `at` times, increasing
  int num_at = 0;
  const int* targets = nullptr;  // per assignment: state i as i, param j as -1 - j
  int num_assign = 0;
  const ir::Tape* values = nullptr;  // the assigned values, one root per assignment
};

// A batch's events (all null / 0 for a model without).
struct EventJob {
  const EventInfo* events = nullptr;
  int num_events = 0;
  const ir::Tape* conditions = nullptr;  // one root per event (0 for `at` events)
  const double* stops = nullptr;         // every `at` time, increasing, once
  int num_stops = 0;
  bool params_mutable = false;      // some event assigns a parameter
  int32_t* events_fired = nullptr;  // [count]
};

inline namespace ENSOLVE_CPU_ISA_NS {  // see pack.h

// The lanes' events. Runner is the lane context's TapeRunner<T, W>.
template <class T, int W, class Runner>
class LaneEvents {
 public:
  using Real = Pack<T, W>;
  using M = Mask<W>;

  explicit LaneEvents(const EventJob& job, int np)
      : job_(job), values_(4 * job.num_events, Real(T(0))) {
    if (job.num_events == 0) return;
    conditions_ = std::make_unique<Runner>(job.conditions);
    int most = 0;
    for (int e = 0; e < job.num_events; ++e) {
      affects_.push_back(std::make_unique<Runner>(job.events[e].values));
      most = std::max(most, job.events[e].num_assign);
    }
    out_.assign(most, Real(T(0)));
    if (job.params_mutable) params_.assign(np, Real(T(0)));
  }

  int num_events() const { return job_.num_events; }
  Real* values() { return values_.data(); }
  void Conditions(const Real& t, const Real* u, int n, Real* g) { conditions_->Run(t, u, n, g); }

  // Parameter j of lane l, in the events' own tapes and the lane's copy.
  void SetParam(int j, int l, T v) {
    if (job_.num_events == 0) return;
    conditions_->SetParam(j, l, v);
    for (auto& a : affects_) a->SetParam(j, l, v);
    if (!params_.empty()) params_[j].v[l] = v;
  }
  bool params_mutable() const { return !params_.empty(); }
  T Param(int j, int l) const { return params_[j].v[l]; }

  // The first stop strictly after t along dir, per lane (+-infinity along dir when none).
  Real NextStop(const Real& t, const Real& dir) const {
    Real r;
    const T inf = std::numeric_limits<T>::infinity();
    const int ns = job_.num_stops;
    for (int l = 0; l < W; ++l) {
      const T tl = t.v[l];
      if (dir.v[l] > T(0)) {  // the first stop > t
        int lo = 0, hi = ns;
        while (lo < hi) {
          const int mid = (lo + hi) / 2;
          if (static_cast<T>(job_.stops[mid]) > tl)
            hi = mid;
          else
            lo = mid + 1;
        }
        r.v[l] = lo < ns ? static_cast<T>(job_.stops[lo]) : inf;
      } else {  // the last stop < t
        int lo = 0, hi = ns;
        while (lo < hi) {
          const int mid = (lo + hi) / 2;
          if (static_cast<T>(job_.stops[mid]) < tl)
            lo = mid + 1;
          else
            hi = mid;
        }
        r.v[l] = lo > 0 ? static_cast<T>(job_.stops[lo - 1]) : -inf;
      }
    }
    return r;
  }

  M AtStop(int e, const Real& ts) const {
    const EventInfo& ev = job_.events[e];
    M m(false);
    for (int l = 0; l < W; ++l) {
      int lo = 0, hi = ev.num_at;
      while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (static_cast<T>(ev.at[mid]) < ts.v[l])
          lo = mid + 1;
        else
          hi = mid;
      }
      m.v[l] = lo < ev.num_at && static_cast<T>(ev.at[lo]) == ts.v[l];
    }
    return m;
  }

  // Event e's assignments for lanes m; `set_param(j, l, v)` updates every tape of the lane.
  template <class SetParamFn>
  void Apply(int e, const Real& t, Real* u, int n, const M& m, SetParamFn set_param) {
    const EventInfo& ev = job_.events[e];
    if (ev.num_assign == 0) return;
    affects_[e]->Run(t, u, n, out_.data());  // every value first: they read the old state
    for (int a = 0; a < ev.num_assign; ++a) {
      const int target = ev.targets[a];
      if (target >= 0) {
        u[target] = Select(m, out_[a], u[target]);
        continue;
      }
      for (int l = 0; l < W; ++l) {
        if (m.v[l]) set_param(-1 - target, l, out_[a].v[l]);
      }
    }
  }

  void Fired(const M& m, const Ints<W>& count, const int64_t* traj) {
    for (int l = 0; l < W; ++l) {
      if (m.v[l]) job_.events_fired[traj[l]] = count.v[l];
    }
  }

 private:
  const EventJob& job_;
  std::vector<Real> values_;  // the driver's: 4 per event
  std::unique_ptr<Runner> conditions_;
  std::vector<std::unique_ptr<Runner>> affects_;
  std::vector<Real> out_;     // one event's assigned values
  std::vector<Real> params_;  // the lanes' parameters, when events assign them
};

}  // namespace ENSOLVE_CPU_ISA_NS
}  // namespace ensolve::cpu

#endif  // ENSOLVE_ENGINE_CPU_LANE_EVENTS_H_
