// The solve code of one instruction set: engine/CMakeLists.txt compiles this file once per
// set (see isa.h) with ENSOLVE_CPU_ISA_NS naming the namespace everything here and in the
// pack, tape and lane-context headers is instantiated in, and ENSOLVE_CPU_LANES_F32/_F64
// the pack widths.
#ifndef ENSOLVE_CPU_ISA_NS
#error "compile solve_isa.cc with -DENSOLVE_CPU_ISA_NS=<isa> (engine/CMakeLists.txt)"
#endif

#include "engine/cpu/solve_isa.h"

#include <algorithm>
#include <cstdint>

#include "engine/algorithms/dispatch.h"
#include "engine/algorithms/dynamic_method.h"
#include "engine/algorithms/integrate.h"
#include "engine/algorithms/integrate_sde.h"
#include "engine/cpu/lane_context.h"

namespace ensolve::cpu::ENSOLVE_CPU_ISA_NS {
namespace {

template <class T>
constexpr int kLanes = sizeof(T) == 4 ? ENSOLVE_CPU_LANES_F32 : ENSOLVE_CPU_LANES_F64;

template <class T>
alg::Controls<T> MakeControls(const SolveOptions& o) {
  alg::Controls<T> c;
  c.t0 = static_cast<T>(o.t0);
  c.t1 = static_cast<T>(o.t1);
  c.dt = static_cast<T>(o.dt);
  c.abstol = static_cast<T>(o.abstol);
  c.reltol = static_cast<T>(o.reltol);
  c.dtmin = static_cast<T>(o.dtmin);
  c.max_steps = static_cast<int>(std::min<int64_t>(o.max_steps, 2147483647));
  c.adaptive = o.adaptive;
  return c;
}

template <class T>
void RunAlgorithm(ThreadPool& pool, const BatchJob<T>& job, const SolveOptions& o) {
  const alg::Controls<T> controls = MakeControls<T>(o);
  using Ctx = LaneContext<T, kLanes<T>>;
  // One driver for every ODE method (dynamic_method.h): only the methods' Step and
  // Interpolate are compiled per method.
  const alg::DynamicMethod<Ctx> method = alg::DynamicMethodFor<Ctx>(o.algorithm);
  if (method.step != nullptr) {
    pool.Run([&](int) {
      Ctx ctx(job, alg::kDriverVectors + method.vectors, method.matrices);
      alg::IntegrateMethod(ctx, controls, method);
    });
  }
  alg::DispatchSde(o.algorithm, [&](auto tag) {
    using Alg = typename decltype(tag)::type;
    pool.Run([&](int) {
      LaneContext<T, kLanes<T>> ctx(job, alg::kDriverVectors + Alg::kVectors, 0,
                                    Alg::kNoiseMatrices);
      alg::IntegrateSde<Alg>(ctx, controls);
    });
  });
}

}  // namespace

void Solve(ThreadPool& pool, const BatchJob<float>& job, const SolveOptions& o) {
  RunAlgorithm<float>(pool, job, o);
}
void Solve(ThreadPool& pool, const BatchJob<double>& job, const SolveOptions& o) {
  RunAlgorithm<double>(pool, job, o);
}
int Lanes(Precision precision) {
  return precision == Precision::kFloat32 ? kLanes<float> : kLanes<double>;
}

}  // namespace ensolve::cpu::ENSOLVE_CPU_ISA_NS
