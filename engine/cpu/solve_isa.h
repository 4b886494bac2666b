// The entry points of the solve code that is compiled once per instruction set
// (solve_isa.cc, see isa.h): each build lives in its own namespace, named after its
// instruction set, so that no template instantiated for one set can stand in for another's.
#ifndef ENSOLVE_ENGINE_CPU_SOLVE_ISA_H_
#define ENSOLVE_ENGINE_CPU_SOLVE_ISA_H_

#include "engine/cpu/lane_context.h"
#include "engine/cpu/thread_pool.h"
#include "engine/solve_options.h"

namespace ensolve::cpu {

// Solves every trajectory of `job` with options.algorithm on all of the pool's threads.
// Lanes(): trajectories per pack for float32 and float64.
#define ENSOLVE_CPU_DECLARE_ISA(ns)                                                 \
  namespace ns {                                                                    \
  void Solve(ThreadPool& pool, const BatchJob<float>& job, const SolveOptions& o);  \
  void Solve(ThreadPool& pool, const BatchJob<double>& job, const SolveOptions& o); \
  int Lanes(Precision precision);                                                   \
  }
ENSOLVE_CPU_DECLARE_ISA(sse2)
ENSOLVE_CPU_DECLARE_ISA(avx2)
ENSOLVE_CPU_DECLARE_ISA(avx512)
#undef ENSOLVE_CPU_DECLARE_ISA

}  // namespace ensolve::cpu

#endif  // ENSOLVE_ENGINE_CPU_SOLVE_ISA_H_
