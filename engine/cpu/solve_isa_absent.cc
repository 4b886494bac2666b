// Stands in for solve_isa.cc of an instruction set that the build leaves out
// (-DENSOLVE_CPU_ISAS_ONLY, engine/CMakeLists.txt): CpuIsaSupported() is false for it, so
// the backend never calls Solve() here; Lanes() still answers what the set would have.
#include <cstdio>
#include <cstdlib>

#include "engine/cpu/solve_isa.h"

namespace ensolve::cpu::ENSOLVE_CPU_ISA_NS {
namespace {

[[noreturn]] void LeftOut() {
  std::fprintf(stderr, "ensolve: the CPU solve code for this instruction set is not built\n");
  std::abort();
}

}  // namespace

void Solve(ThreadPool&, const BatchJob<float>&, const SolveOptions&) { LeftOut(); }
void Solve(ThreadPool&, const BatchJob<double>&, const SolveOptions&) { LeftOut(); }

int Lanes(Precision precision) {
  return precision == Precision::kFloat32 ? ENSOLVE_CPU_LANES_F32 : ENSOLVE_CPU_LANES_F64;
}

}  // namespace ensolve::cpu::ENSOLVE_CPU_ISA_NS
