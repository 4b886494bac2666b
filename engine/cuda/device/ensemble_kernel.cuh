// Device side of the CUDA backend, compiled by NVRTC together with a model's generated
// code (engine/cuda/codegen.cc) and the shared algorithm templates (engine/algorithms).
// The generated prelude defines, in namespace ensolve_gen:
//   typedef float|double R;  constexpr int kN (states), kP (parameters);
//   constexpr int kBlocks (the iteration matrices' block structure, engine/algorithms/linsolve.h);
//   void ModelRhs(R t, const R* u, const R* p, R* du);  R Infinity();
//   ModelJacobian / ModelTimeDerivative (same signature) when the method needs them;
//   constexpr int kOut (values per save point) and, with ENSOLVE_SELECTION 1,
//   ModelOutputs(t, u, p, out) computing the request's selection of states and outputs;
// and the macros ENSOLVE_ALG (an engine/algorithms integrator), ENSOLVE_BLOCK,
// ENSOLVE_NEEDS_JACOBIAN and ENSOLVE_NEEDS_TIME_DERIVATIVE (0 or 1, from the table);
// for an SDE method (ENSOLVE_STOCHASTIC 1, integrate_sde.h) also constexpr int kM (Wiener
// processes) and ModelNoise(t, u, p, G) computing the n x m noise matrix.
// ENSOLVE_NEEDS_JACOBIAN and ENSOLVE_NEEDS_TIME_DERIVATIVE (0 or 1, from the table).
// For a model with events, also ENSOLVE_EVENTS 1, kE (events), ModelEventConditions,
// ModelApplyEvent, ModelEventDirection / IsTimes / Terminates, ModelAtStop and the stops
// kStops[kNumStops]; the context then has the event interface of
// engine/algorithms/events.h. Without it the context has none and no event code is compiled.
//
// One thread per trajectory: the integrator's vectors and the parameters live in
// registers (every index is a compile-time constant once the loops over kN unroll).
// Outputs are structure-of-arrays, [save point][state][trajectory], so each store of a
// warp is one contiguous run; ensolve_transpose turns them row-major afterwards.
#ifndef ENSOLVE_ENGINE_CUDA_DEVICE_ENSEMBLE_KERNEL_CUH_
#define ENSOLVE_ENGINE_CUDA_DEVICE_ENSEMBLE_KERNEL_CUH_

#include "engine/algorithms/integrate.h"
#if ENSOLVE_STOCHASTIC
#include "engine/algorithms/integrate_sde.h"
#include "engine/algorithms/philox.h"
#endif

namespace ensolve_gen {

namespace alg = ::ensolve::alg;

// Everything one launch reads and writes. Passed by value as the kernel's one parameter
// (the host mirrors this layout in engine/cuda/internal/launch.h).
struct Args {
  const double* u0;         // [u0_rows][kN] row-major
  const double* p;          // [p_rows][kP] row-major
  const R* saveat;          // save point i of trajectory k: saveat[i * save_step + k * save_stride]
  R* out;                   // [max(num_save, 1)][kOut][count]
  unsigned char* retcodes;  // [count]
  int* stats;               // [count][3]: accepted, rejected, rhs_evals
  double* t_final;          // [count]: the time each trajectory reached
  const int* cancel;        // nonzero: stop at the next check
  const double* t0s;        // [count]: each trajectory's t0; null: t0 below for all
  const double* t1s;        // [count]: likewise t1
  int* events_fired;        // [count]: events each trajectory fired (null without events)
  long long count;
  long long u0_stride;    // 0 (one shared row) or kN
  long long p_stride;     // 0 or kP
  long long save_step;    // 1 (one shared row) or count (one row per trajectory, [i][k])
  long long save_stride;  // 0 or 1
  int num_save;
  int max_steps;
  R t0, t1, dt, abstol, reltol, dtmin;
  unsigned long long seed;  // SDE solves: the generator's seed (philox.h)
  long long first;          // the global index of trajectory 0 (BatchInputs::first)
};

// The lane mask of one trajectory per thread. A struct rather than a plain bool so that
// mask arithmetic stays in predicates (bool & bool promotes to int and back).
struct Lane {
  bool v;
  __device__ __forceinline__ Lane() {}
  __device__ __forceinline__ Lane(bool b) : v(b) {}  // NOLINT: comparisons are masks
};
__device__ __forceinline__ Lane operator&(Lane a, Lane b) { return Lane(a.v && b.v); }
__device__ __forceinline__ Lane operator|(Lane a, Lane b) { return Lane(a.v || b.v); }
__device__ __forceinline__ Lane operator!(Lane a) { return Lane(!a.v); }
__device__ __forceinline__ bool Any(Lane a) { return a.v; }
template <class T>
__device__ __forceinline__ T Select(Lane m, T a, T b) {
  return m.v ? a : b;
}

// kSaveAt: the launch has save points (false: final state only, and the integrator's
// dense-output code is compiled out).
template <bool kSaveAt>
struct Context {
  using Scalar = R;
  using Real = R;
  using Mask = Lane;
  using Index = int;

  static constexpr int kVectors = alg::kDriverVectors + ENSOLVE_ALG::kVectors;
  static constexpr bool kLinear = ENSOLVE_ALG::kMatrices > 0;  // stiff methods only
  R v[kVectors][kN];
  R m[kLinear ? ENSOLVE_ALG::kMatrices : 1][kLinear ? kN * kN : 1];
  int piv[kLinear ? kN : 1];
  R p[kP > 0 ? kP : 1];  // this trajectory's parameters (events may assign them)
#if ENSOLVE_EVENTS
  R ev[4 * kE];  // the driver's event values (events.h)
#endif
  const Args a;  // a copy: its fields are read straight from the parameter bank
  long long traj;
  int countdown;  // steps until the next look at the cancel flag

  __device__ __forceinline__ Context(const Args& args, long long i)
      : a(args), traj(i), countdown(256) {}

  __device__ __forceinline__ static constexpr int n() { return kN; }
  __device__ __forceinline__ static constexpr int blocks() { return kBlocks; }
  __device__ __forceinline__ R* vec(int j) { return v[j]; }
  __device__ __forceinline__ R* mat(int j) { return m[j]; }
  __device__ __forceinline__ int* pivots() { return piv; }
  __device__ __forceinline__ void Rhs(R t, const R* u, R* du) { ModelRhs(t, u, p, du); }
#if ENSOLVE_NEEDS_JACOBIAN
  __device__ __forceinline__ void Jacobian(R t, const R* u, R* J) { ModelJacobian(t, u, p, J); }
#endif
#if ENSOLVE_NEEDS_TIME_DERIVATIVE
  __device__ __forceinline__ void TimeDerivative(R t, const R* u, R* dT) {
    ModelTimeDerivative(t, u, p, dT);
  }
#endif
#if ENSOLVE_STOCHASTIC
  // SDE solves (integrate_sde.h): the noise matrices and increments in registers.
  R g[ENSOLVE_ALG::kNoiseMatrices][kN * kM];
  R dw[kM];
  __device__ __forceinline__ static constexpr int num_wiener() { return kM; }
  __device__ __forceinline__ R* noise_mat(int j) { return g[j]; }
  __device__ __forceinline__ R* increments() { return dw; }
  __device__ __forceinline__ void Noise(R t, const R* u, R* G) { ModelNoise(t, u, p, G); }
  __device__ __forceinline__ void Normals(int step, R* z) {
#pragma unroll
    for (int pair = 0; 2 * pair < kM; ++pair) {
      double z0, z1;
      alg::NormalPair(a.seed, static_cast<unsigned long long>(a.first + traj),
                      static_cast<unsigned int>(step), static_cast<unsigned int>(pair), &z0, &z1);
      z[2 * pair] = static_cast<R>(z0);
      if (2 * pair + 1 < kM) z[2 * pair + 1] = static_cast<R>(z1);
    }
  }
#endif
  __device__ __forceinline__ int num_save() const { return kSaveAt ? a.num_save : 0; }
  __device__ __forceinline__ R SaveTime(int i) const {
    return kSaveAt && i < a.num_save ? a.saveat[i * a.save_step + traj * a.save_stride]
                                     : Infinity();
  }
  __device__ __forceinline__ R T0() const {
    return a.t0s != nullptr ? static_cast<R>(a.t0s[traj]) : a.t0;
  }
  __device__ __forceinline__ R T1() const {
    return a.t1s != nullptr ? static_cast<R>(a.t1s[traj]) : a.t1;
  }
  __device__ __forceinline__ void Save(int i, const R* y, Lane m) {
    if (m.v) Write(i, SaveTime(i), y);
  }
  // Save point i holds y at time t: the states, or the request's selection of states and
  // outputs (kOut values, computed here from y).
  __device__ __forceinline__ void Write(int i, R t, const R* y) {
    R* dst = a.out + static_cast<long long>(i) * kOut * a.count + traj;
#if ENSOLVE_SELECTION
    R o[kOut];
    ModelOutputs(t, y, p, o);
#pragma unroll
    for (int s = 0; s < kOut; ++s) dst[s * a.count] = o[s];
#else
    (void)t;
#pragma unroll
    for (int s = 0; s < kN; ++s) dst[s * a.count] = y[s];
#endif
  }
  __device__ __forceinline__ bool Begin(R* u) {
    const double* u0 = a.u0 + traj * a.u0_stride;
#pragma unroll
    for (int s = 0; s < kN; ++s) u[s] = static_cast<R>(u0[s]);
    const double* pp = a.p + traj * a.p_stride;
#pragma unroll
    for (int j = 0; j < kP; ++j) p[j] = static_cast<R>(pp[j]);
    return true;
  }
  __device__ __forceinline__ Lane Retire(Lane done, int code, R t, const R* u, int accepted,
                                         int rejected, int rhs_evals) {
    if (!done.v) return false;
    if (num_save() == 0) Write(0, t, u);
    a.retcodes[traj] = static_cast<unsigned char>(code);
    a.t_final[traj] = static_cast<double>(t);
    int* st = a.stats + 3 * traj;
    st[0] = accepted;
    st[1] = rejected;
    st[2] = rhs_evals;
    return false;
  }
#if ENSOLVE_EVENTS
  __device__ __forceinline__ static constexpr int num_events() { return kE; }
  __device__ __forceinline__ R* event_values() { return ev; }
  __device__ __forceinline__ void EventConditions(R t, const R* u, R* g) {
    ModelEventConditions(t, u, p, g);
  }
  __device__ __forceinline__ int EventDirection(int e) const { return ModelEventDirection(e); }
  __device__ __forceinline__ bool EventIsTimes(int e) const { return ModelEventIsTimes(e); }
  __device__ __forceinline__ bool EventTerminates(int e) const { return ModelEventTerminates(e); }
  // The first stop strictly after t along dir (binary search of kStops).
  __device__ __forceinline__ R NextStop(R t, R dir) const {
    int lo = 0, hi = kNumStops;
    if (dir > R(0)) {
      while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (StopAt(mid) > t)
          hi = mid;
        else
          lo = mid + 1;
      }
      return lo < kNumStops ? StopAt(lo) : Infinity();
    }
    while (lo < hi) {
      const int mid = (lo + hi) / 2;
      if (StopAt(mid) < t)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo > 0 ? StopAt(lo - 1) : -Infinity();
  }
  __device__ __forceinline__ static R StopAt(int i) {
#if ENSOLVE_HAS_STOPS
    return kStops[i];
#else
    (void)i;
    return Infinity();
#endif
  }
  __device__ __forceinline__ Lane AtStop(int e, R ts) const { return Lane(ModelAtStop(e, ts)); }
  __device__ __forceinline__ void ApplyEvent(int e, R t, R* u, Lane m) {
    if (m.v) ModelApplyEvent(e, t, u, p);
  }
  __device__ __forceinline__ void EventsFired(Lane m, int count) {
    if (m.v) a.events_fired[traj] = count;
  }
#endif
  // Cancellation: the host sets *cancel from another stream; read every 256 steps. A
  // cancelled thread exits on the spot (the host discards the whole batch), so to the
  // integrator Stop() is always false and its check compiles away.
  __device__ __forceinline__ bool Stop() {
    if (__builtin_expect(--countdown == 0, 0)) {
      countdown = 256;
      if (__ldcv(a.cancel) != 0) asm volatile("exit;");
    }
    return false;
  }
};

template <bool kAdaptive, bool kSaveAt>
__device__ __forceinline__ void Solve(const Args& a) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= a.count) return;
  alg::Controls<R> o;
  o.t0 = a.t0;
  o.t1 = a.t1;
  o.dt = a.dt;
  o.abstol = a.abstol;
  o.reltol = a.reltol;
  o.dtmin = a.dtmin;
  o.max_steps = a.max_steps;
  o.adaptive = kAdaptive;  // a compile-time constant: the other mode's code is dropped
  Context<kSaveAt> c(a, i);
#if ENSOLVE_STOCHASTIC
  alg::IntegrateSde<ENSOLVE_ALG>(c, o);  // fixed steps: both kAdaptive kernels are the same
#else
  alg::Integrate<ENSOLVE_ALG>(c, o);
#endif
}

}  // namespace ensolve_gen

// The four ensemble kernels: fixed or adaptive steps, final state only or save points.
#define ENSOLVE_KERNEL(name, adaptive, saveat)                                                  \
  extern "C" __global__ void __launch_bounds__(ENSOLVE_BLOCK) name(const ensolve_gen::Args a) { \
    ensolve_gen::Solve<adaptive, saveat>(a);                                                    \
  }
ENSOLVE_KERNEL(ensolve_fixed, false, false)
ENSOLVE_KERNEL(ensolve_adaptive, true, false)
ENSOLVE_KERNEL(ensolve_fixed_saveat, false, true)
ENSOLVE_KERNEL(ensolve_adaptive_saveat, true, true)
#undef ENSOLVE_KERNEL

// out[c][r] = in[r][c] for an rows x cols matrix, through a padded 32x32 shared tile so
// both the loads and the stores of a warp are contiguous. Block (32, 8).
extern "C" __global__ void __launch_bounds__(256)
    ensolve_transpose(const ensolve_gen::R* __restrict__ in, ensolve_gen::R* __restrict__ out,
                      int rows, long long cols) {
  __shared__ ensolve_gen::R tile[32][33];
  const long long c0 = static_cast<long long>(blockIdx.x) * 32;
  for (int r0 = blockIdx.y * 32; r0 < rows; r0 += gridDim.y * 32) {
    for (int k = threadIdx.y; k < 32; k += 8) {
      const int r = r0 + k;
      const long long c = c0 + threadIdx.x;
      if (r < rows && c < cols) tile[k][threadIdx.x] = in[r * cols + c];
    }
    __syncthreads();
    for (int k = threadIdx.y; k < 32; k += 8) {
      const long long c = c0 + k;
      const int r = r0 + threadIdx.x;
      if (r < rows && c < cols) out[c * rows + r] = tile[threadIdx.x][k];
    }
    __syncthreads();
  }
}

#endif  // ENSOLVE_ENGINE_CUDA_DEVICE_ENSEMBLE_KERNEL_CUH_
