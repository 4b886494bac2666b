// The instruction sets the CPU backend is built for. The solve code (solve_isa.cc: the
// algorithm templates over packs, the tape interpreter, the lane context) is compiled once
// per instruction set into its own inline namespace, with a pack width to match the vector
// registers; the backend picks the widest set the core supports at run time, or the one
// ENSOLVE_CPU_ISA names (sse2, avx2, avx512; empty or "auto": the widest).
//
// Every path computes the same bits: the solve code is compiled with -ffp-contract=off (no
// fused multiply-add contraction) and calls the same scalar math functions, so a job whose
// batches run on different machines gets one answer (cpu_backend_test asserts it).
#ifndef ENSOLVE_ENGINE_CPU_ISA_H_
#define ENSOLVE_ENGINE_CPU_ISA_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/backend.h"

namespace ensolve {

enum class CpuIsa {
  kSse2,    // x86-64 baseline: packs of 16 float32 / 8 float64 lanes (4 SSE registers)
  kAvx2,    // x86-64-v3 (AVX2, FMA, BMI): 32 / 16 lanes (4 AVX registers)
  kAvx512,  // x86-64-v4 (AVX-512 F, BW, CD, DQ, VL): 64 / 32 lanes (4 AVX-512 registers)
};

inline constexpr CpuIsa kCpuIsas[] = {CpuIsa::kSse2, CpuIsa::kAvx2, CpuIsa::kAvx512};

// "sse2", "avx2", "avx512".
const char* CpuIsaName(CpuIsa isa);

// Whether this core runs code built for `isa`.
bool CpuIsaSupported(CpuIsa isa);

// The widest instruction set this core supports.
CpuIsa BestCpuIsa();

// The instruction set `value` (ENSOLVE_CPU_ISA's syntax) asks for: INVALID_ARGUMENT for an
// unknown name, FAILED_PRECONDITION for one this core does not support.
absl::StatusOr<CpuIsa> ParseCpuIsa(absl::string_view value);

// ParseCpuIsa of the environment's ENSOLVE_CPU_ISA (unset: the widest).
absl::StatusOr<CpuIsa> CpuIsaFromEnvironment();

// Trajectories per pack on `isa` for float32 and float64.
int CpuIsaLanes(CpuIsa isa, Precision precision);

// A CPU backend that runs the given instruction set's code (which must be supported).
std::unique_ptr<Backend> NewCpuBackend(int threads, CpuIsa isa);

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_CPU_ISA_H_
