// The CPU backend's context for alg::Integrate: W trajectories at a time in the lanes of a
// pack, the right-hand side evaluated by interpreting the model's tape over the pack, and a
// lane that finishes refilled at once with the next trajectory of the batch.
//
// Thread-safety: one LaneContext per thread; the BatchJob it reads is shared (trajectories
// are handed out through an atomic counter; each trajectory's outputs are written by the
// one thread that solved it).
#ifndef ENSOLVE_ENGINE_CPU_LANE_CONTEXT_H_
#define ENSOLVE_ENGINE_CPU_LANE_CONTEXT_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/algorithms/integrate.h"
#include "engine/algorithms/philox.h"
#include "engine/batch.h"
#include "engine/cpu/lane_events.h"
#include "engine/cpu/pack.h"
#include "engine/cpu/tape_eval.h"
#include "engine/ir/tape.h"

namespace ensolve::cpu {

// One batch, as every worker thread sees it.
template <class T>
struct BatchJob {
  const ir::Tape* tape = nullptr;             // f
  const ir::Tape* jacobian = nullptr;         // df/du row-major, for methods that need it
  const ir::Tape* time_derivative = nullptr;  // df/dt, likewise
  const ir::Tape* outputs = nullptr;          // the selection a save point holds; null: the states
  // SDE solves (integrate_sde.h): the noise matrix g (n x m row-major), and the generator's
  // key: the seed, and the global index of trajectory 0 (BatchInputs::first).
  const ir::Tape* noise = nullptr;
  int m = 0;
  uint64_t seed = 0;
  int64_t first = 0;
  int out_width = 0;  // values per save point (n without a selection)
  int n = 0;          // states
  int np = 0;         // params
  int blocks = 1;     // block structure of the iteration matrices (engine/algorithms/linsolve.h)
  const double* u0 = nullptr;
  int64_t u0_rows = 1;
  const double* p = nullptr;
  int64_t p_rows = 1;
  // The span: t0[k], t1[k] for trajectory k when given (one per trajectory), else the
  // controls' shared t0 and t1.
  double t0 = 0, t1 = 1;
  const double* t0s = nullptr;
  const double* t1s = nullptr;
  // Save times: num_save values per trajectory, trajectory k's at saveat + k * saveat_stride
  // (stride 0: one row shared by all).
  const double* saveat = nullptr;
  int num_save = 0;
  int64_t saveat_stride = 0;
  int out_saves = 1;  // save points per trajectory in `out` (>= 1)
  T* out = nullptr;   // [count][out_saves][n]
  RetCode* retcodes = nullptr;
  double* t_final = nullptr;
  TrajectoryStats* stats = nullptr;
  int64_t count = 0;
  std::atomic<int64_t>* next = nullptr;  // next trajectory to hand out
  const std::atomic<bool>* cancel = nullptr;
  // A sliced batch (BatchInputs::slice_seconds): where each trajectory stands, read to
  // skip finished ones and resume suspended ones, written as they finish or are
  // suspended at pause_at. Null: run every trajectory to its end.
  ResumeState* resume = nullptr;
  std::chrono::steady_clock::time_point pause_at;
  std::atomic<int>* next_slot = nullptr;  // the next free slot of resume's write set
  EventJob events;                        // the model's events (none: all null)
};

inline namespace ENSOLVE_CPU_ISA_NS {  // see pack.h

// One tape's registers over the pack: constants loaded once, parameters per lane.
template <class T, int W>
class TapeRunner {
 public:
  using Real = Pack<T, W>;
  explicit TapeRunner(const ir::Tape* tape) : tape_(tape) {
    if (tape == nullptr) return;
    regs_.assign(tape->num_regs, Real(T(0)));
    for (size_t k = 0; k < tape->consts.size(); ++k) {
      regs_[tape->const_reg(static_cast<int>(k))] = Real(static_cast<T>(tape->consts[k]));
    }
    for (int r = 0; r < tape->num_regs; ++r) reg_.push_back(&regs_[r]);
    // A root in a temporary register of its own is computed straight into the output.
    const int first_temp = tape->const_reg(static_cast<int>(tape->consts.size()));
    for (size_t k = 0; k < tape->roots.size(); ++k) {
      const int r = tape->roots[k];
      const bool own = r >= first_temp &&
                       std::count(tape->roots.begin(), tape->roots.end(), tape->roots[k]) == 1;
      (own ? direct_ : copied_).push_back(Root{static_cast<int>(k)});
    }
  }
  TapeRunner(const TapeRunner&) = delete;  // reg_ points into regs_
  TapeRunner& operator=(const TapeRunner&) = delete;
  void SetParam(int j, int lane, T value) {
    if (tape_ != nullptr) regs_[tape_->param_reg(j)].v[lane] = value;
  }
  // out[k] = root k at (t, u). The input registers point at t and u (the tape never writes
  // them), the roots' own registers at out (which must not overlap u).
  void Run(const Real& t, const Real* u, int n, Real* out) {
    const size_t roots = tape_->roots.size();
    if (out < u + n && u < out + roots) {  // overlapping: through the register file
      regs_[0] = t;
      for (int i = 0; i < n; ++i) regs_[1 + i] = u[i];
      RunTape(*tape_, regs_.data());
      for (size_t k = 0; k < roots; ++k) out[k] = regs_[tape_->roots[k]];
      return;
    }
    reg_[0] = const_cast<Real*>(&t);
    for (int i = 0; i < n; ++i) reg_[1 + i] = const_cast<Real*>(&u[i]);
    for (Root r : direct_) reg_[tape_->roots[r.k]] = &out[r.k];
    RunTape(*tape_, reg_.data());
    for (Root r : copied_) out[r.k] = *reg_[tape_->roots[r.k]];
    for (Root r : direct_) reg_[tape_->roots[r.k]] = &regs_[tape_->roots[r.k]];
    reg_[0] = &regs_[0];
    for (int i = 0; i < n; ++i) reg_[1 + i] = &regs_[1 + i];
  }

 private:
  const ir::Tape* tape_;
  std::vector<Real> regs_;
  // A root's index. A type of this namespace's own: every std:: template instantiated here
  // must be one (std::vector<int>'s out-of-line code, shared between the instruction sets'
  // builds, could be linked from the AVX-512 one into the SSE2 path).
  struct Root {
    int k;
  };
  std::vector<Real*> reg_;             // where register r lives during Run
  std::vector<Root> direct_, copied_;  // roots computed into out, and copied there
};

template <class T, int W>
class LaneContext {
 public:
  using Scalar = T;
  using Real = Pack<T, W>;
  using Mask = cpu::Mask<W>;
  using Index = Ints<W>;

  // Storage for `vectors` n-vectors and `matrices` n x n matrices per lane (the method's
  // table row plus the driver's).
  LaneContext(const BatchJob<T>& job, int vectors, int matrices, int noise_matrices = 0)
      : job_(job),
        rhs_(job.tape),
        jac_(job.jacobian),
        tgrad_(job.time_derivative),
        outputs_(job.outputs),
        noise_(job.noise),
        noise_mats_(static_cast<size_t>(noise_matrices) * job.n * job.m, Real(T(0))),
        increments_(job.m, Real(T(0))),
        out_buf_(job.outputs != nullptr ? job.out_width : 0),
        vecs_(static_cast<size_t>(vectors) * job.n, Real(T(0))),
        mats_(static_cast<size_t>(matrices) * job.n * job.n, Real(T(0))),
        piv_(job.n, Index(0)),
        events_(job.events, job.np),
        t0_(static_cast<T>(job.t0)),
        t1_(static_cast<T>(job.t1)) {
    for (int l = 0; l < W; ++l) {
      traj_[l] = -1;
      saves_[l] = job.saveat;
    }
  }

  int n() const { return job_.n; }
  int blocks() const { return job_.blocks; }
  Real* vec(int j) { return &vecs_[static_cast<size_t>(j) * job_.n]; }
  Real* mat(int j) { return &mats_[static_cast<size_t>(j) * job_.n * job_.n]; }
  Index* pivots() { return piv_.data(); }

  void Rhs(const Real& t, const Real* u, Real* du) { rhs_.Run(t, u, job_.n, du); }
  void Jacobian(const Real& t, const Real* u, Real* J) { jac_.Run(t, u, job_.n, J); }
  void TimeDerivative(const Real& t, const Real* u, Real* dT) { tgrad_.Run(t, u, job_.n, dT); }

  // SDE solves (integrate_sde.h).
  int num_wiener() const { return job_.m; }
  Real* noise_mat(int j) { return &noise_mats_[static_cast<size_t>(j) * job_.n * job_.m]; }
  Real* increments() { return increments_.data(); }
  void Noise(const Real& t, const Real* u, Real* G) { noise_.Run(t, u, job_.n, G); }
  void Normals(const Index& step, Real* z) {
    // Lane by lane, two Wiener processes per Philox block (philox.h); a lane without a
    // trajectory draws for trajectory 0 and is never read.
    for (int pair = 0; 2 * pair < job_.m; ++pair) {
      double z0[W], z1[W];
      for (int l = 0; l < W; ++l) {
        const uint64_t traj = static_cast<uint64_t>(job_.first + (traj_[l] < 0 ? 0 : traj_[l]));
        alg::NormalPair(job_.seed, traj, static_cast<uint32_t>(step.v[l]), pair, &z0[l], &z1[l]);
      }
      for (int l = 0; l < W; ++l) z[2 * pair].v[l] = static_cast<T>(z0[l]);
      if (2 * pair + 1 < job_.m) {
        for (int l = 0; l < W; ++l) z[2 * pair + 1].v[l] = static_cast<T>(z1[l]);
      }
    }
  }

  int num_save() const { return job_.num_save; }

  // Events (engine/algorithms/events.h).
  int num_events() const { return events_.num_events(); }
  Real* event_values() { return events_.values(); }
  void EventConditions(const Real& t, const Real* u, Real* g) {
    events_.Conditions(t, u, job_.n, g);
  }
  int EventDirection(int e) const { return job_.events.events[e].direction; }
  bool EventIsTimes(int e) const { return job_.events.events[e].times; }
  bool EventTerminates(int e) const { return job_.events.events[e].terminate; }
  Real NextStop(const Real& t, const Real& dir) const { return events_.NextStop(t, dir); }
  Mask AtStop(int e, const Real& ts) const { return events_.AtStop(e, ts); }
  void ApplyEvent(int e, const Real& t, Real* u, const Mask& m) {
    events_.Apply(e, t, u, job_.n, m, [this](int j, int l, T v) { SetParam(j, l, v); });
  }
  void EventsFired(const Mask& m, const Index& count) { events_.Fired(m, count, traj_); }

  Real SaveTime(const Index& i) const {
    Real r;
    const int ns = num_save();
    for (int l = 0; l < W; ++l) {
      r.v[l] = i.v[l] < ns ? static_cast<T>(saves_[l][i.v[l]]) : std::numeric_limits<T>::infinity();
    }
    return r;
  }

  // The lanes' spans (lanes without a trajectory keep their last one).
  const Real& T0() const { return t0_; }
  const Real& T1() const { return t1_; }

  void Save(const Index& i, const Real* y, const Mask& m) { Write(i, SaveTime(i), y, m); }

  Mask Begin(Real* u) {
    Mask fresh;
    for (int l = 0; l < W; ++l) fresh.v[l] = Load(l, u);
    return fresh;
  }

  Mask Retire(const Mask& done, const Index& code, const Real& t, const Real* u,
              const Index& accepted, const Index& rejected, const Index& rhs_evals) {
    Mask fresh;
    for (int l = 0; l < W; ++l) {
      fresh.v[l] = 0;
      if (!done.v[l]) continue;
      const int64_t traj = traj_[l];
      if (num_save() == 0) Write(Index(0), t, u, LaneMask(l));
      job_.retcodes[traj] = static_cast<RetCode>(code.v[l]);
      if (job_.resume != nullptr) job_.resume->status[traj] = ResumeState::kFinished;
      job_.t_final[traj] = static_cast<double>(t.v[l]);
      job_.stats[traj] = TrajectoryStats{accepted.v[l], rejected.v[l], rhs_evals.v[l]};
      fresh.v[l] = Load(l, vec(0));
    }
    return fresh;
  }

  bool Stop() const { return job_.cancel && job_.cancel->load(std::memory_order_relaxed); }

  // Slices (integrate.h): the clock is read every few steps.
  bool Pause() {
    if (job_.resume == nullptr || --pause_countdown_ > 0) return false;
    pause_countdown_ = 8;
    return std::chrono::steady_clock::now() >= job_.pause_at;
  }
  void Suspend(const Mask& m, const alg::LaneState<Real, Index>& st, const Real*, Real* const*) {
    ResumeState& r = *job_.resume;
    const int to = 1 - r.from;
    for (int l = 0; l < W; ++l) {
      if (!m.v[l]) continue;
      const int64_t traj = traj_[l];
      const int slot = job_.next_slot->fetch_add(1, std::memory_order_relaxed);
      r.status[traj] = ResumeState::kSuspended;
      r.slot[traj] = slot;
      double* s = &r.scalars[to][slot * 4];
      s[0] = st.t.v[l];
      s[1] = st.h.v[l];
      s[2] = st.log_qold.v[l];
      s[3] = st.nfixed.v[l];
      int32_t* c = &r.counters[to][slot * ResumeState::kCounters];
      c[0] = st.accepted.v[l];
      c[1] = st.rejected.v[l];
      c[2] = st.rhs_evals.v[l];
      c[3] = st.save.v[l];
      c[4] = st.events.v[l];
      c[5] = st.restart.v[l];
      // Every vector of the lane (the driver's and the method's): what the next step reads;
      // then the parameters events may have changed.
      double* v = &r.values[to][static_cast<size_t>(slot) * r.values_per_trajectory];
      for (size_t j = 0; j < vecs_.size(); ++j) v[j] = vecs_[j].v[l];
      if (events_.params_mutable()) {
        for (int j = 0; j < job_.np; ++j) v[vecs_.size() + j] = events_.Param(j, l);
      }
    }
  }
  Mask Restore(const Mask& fresh, alg::LaneState<Real, Index>& st, Real*, Real* const*) {
    Mask m(false);
    if (job_.resume == nullptr) return m;
    const ResumeState& r = *job_.resume;
    for (int l = 0; l < W; ++l) {
      if (!fresh.v[l] || r.status[traj_[l]] != ResumeState::kSuspended) continue;
      m.v[l] = 1;
      const int slot = r.slot[traj_[l]];
      const double* s = &r.scalars[r.from][slot * 4];
      st.t.v[l] = static_cast<T>(s[0]);
      st.h.v[l] = static_cast<T>(s[1]);
      st.log_qold.v[l] = static_cast<T>(s[2]);
      st.nfixed.v[l] = static_cast<T>(s[3]);
      const int32_t* c = &r.counters[r.from][slot * ResumeState::kCounters];
      st.accepted.v[l] = c[0];
      st.rejected.v[l] = c[1];
      st.rhs_evals.v[l] = c[2];
      st.save.v[l] = c[3];
      st.events.v[l] = c[4];
      st.restart.v[l] = c[5];
      const double* v = &r.values[r.from][static_cast<size_t>(slot) * r.values_per_trajectory];
      for (size_t j = 0; j < vecs_.size(); ++j) vecs_[j].v[l] = static_cast<T>(v[j]);
      if (events_.params_mutable()) {
        for (int j = 0; j < job_.np; ++j) SetParam(j, l, static_cast<T>(v[vecs_.size() + j]));
      }
    }
    return m;
  }

 private:
  T* Row(int64_t traj) { return job_.out + traj * job_.out_saves * job_.out_width; }

  static Mask LaneMask(int lane) {
    Mask m(false);
    m.v[lane] = 1;
    return m;
  }

  // Save point i of the lanes in m holds y at time t: the states, or the selection computed
  // from them (for these lanes' parameters).
  void Write(const Index& i, const Real& t, const Real* y, const Mask& m) {
    const Real* src = y;
    if (job_.outputs != nullptr) {
      outputs_.Run(t, y, job_.n, out_buf_.data());
      src = out_buf_.data();
    }
    for (int l = 0; l < W; ++l) {
      if (!m.v[l]) continue;
      T* dst = Row(traj_[l]) + static_cast<int64_t>(i.v[l]) * job_.out_width;
      for (int s = 0; s < job_.out_width; ++s) dst[s] = src[s].v[l];
    }
  }

  // Puts the next trajectory of the batch into lane l; false when none is left.
  bool Load(int l, Real* u) {
    int64_t traj;
    do {
      traj = job_.next->fetch_add(1, std::memory_order_relaxed);
      if (traj >= job_.count) {
        traj_[l] = -1;
        return false;
      }
      // A sliced batch's later calls skip what earlier ones finished.
    } while (job_.resume != nullptr && job_.resume->status[traj] == ResumeState::kFinished);
    traj_[l] = traj;
    if (job_.t0s != nullptr) t0_.v[l] = static_cast<T>(job_.t0s[traj]);
    if (job_.t1s != nullptr) t1_.v[l] = static_cast<T>(job_.t1s[traj]);
    saves_[l] = job_.saveat + traj * job_.saveat_stride;
    const double* u0 = job_.u0 + (job_.u0_rows == 1 ? 0 : traj) * job_.n;
    for (int i = 0; i < job_.n; ++i) u[i].v[l] = static_cast<T>(u0[i]);
    if (job_.np > 0) {
      const double* p = job_.p + (job_.p_rows == 1 ? 0 : traj) * job_.np;
      for (int j = 0; j < job_.np; ++j) SetParam(j, l, static_cast<T>(p[j]));
    }
    return true;
  }

  // Parameter j of lane l, in every tape (and the lane's copy, when events change it).
  void SetParam(int j, int l, T v) {
    rhs_.SetParam(j, l, v);
    outputs_.SetParam(j, l, v);
    jac_.SetParam(j, l, v);
    tgrad_.SetParam(j, l, v);
    noise_.SetParam(j, l, v);
    events_.SetParam(j, l, v);
  }

  const BatchJob<T>& job_;
  TapeRunner<T, W> rhs_, jac_, tgrad_, outputs_, noise_;
  std::vector<Real> noise_mats_, increments_;
  std::vector<Real> out_buf_;
  std::vector<Real> vecs_, mats_;
  std::vector<Index> piv_;
  LaneEvents<T, W, TapeRunner<T, W>> events_;
  Real t0_, t1_;
  const double* saves_[W];  // each lane's save times
  int64_t traj_[W];
  int pause_countdown_ = 1;
};

}  // namespace ENSOLVE_CPU_ISA_NS
}  // namespace ensolve::cpu

#endif  // ENSOLVE_ENGINE_CPU_LANE_CONTEXT_H_
