#include "engine/cpu/isa.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "engine/cpu/solve_isa.h"

namespace ensolve {

const char* CpuIsaName(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kSse2:
      return "sse2";
    case CpuIsa::kAvx2:
      return "avx2";
    case CpuIsa::kAvx512:
      return "avx512";
  }
  return "?";
}

bool CpuIsaSupported(CpuIsa isa) {
  // What -march=x86-64-v3 and -march=x86-64-v4 (engine/CMakeLists.txt) let the compiler use.
  switch (isa) {
    case CpuIsa::kSse2:
      return true;
    case CpuIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
             __builtin_cpu_supports("f16c") && __builtin_cpu_supports("movbe");
    case CpuIsa::kAvx512:
      return CpuIsaSupported(CpuIsa::kAvx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512cd") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  }
  return false;
}

CpuIsa BestCpuIsa() {
  if (CpuIsaSupported(CpuIsa::kAvx512)) return CpuIsa::kAvx512;
  if (CpuIsaSupported(CpuIsa::kAvx2)) return CpuIsa::kAvx2;
  return CpuIsa::kSse2;
}

absl::StatusOr<CpuIsa> ParseCpuIsa(absl::string_view value) {
  if (value.empty() || value == "auto") return BestCpuIsa();
  for (CpuIsa isa : kCpuIsas) {
    if (value != CpuIsaName(isa)) continue;
    if (!CpuIsaSupported(isa)) {
      return absl::FailedPreconditionError(
          absl::StrCat("ENSOLVE_CPU_ISA=", value,
                       ": this CPU does not support it (best: ", CpuIsaName(BestCpuIsa()), ")"));
    }
    return isa;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("ENSOLVE_CPU_ISA=", value, ": expected sse2, avx2, avx512 or auto"));
}

absl::StatusOr<CpuIsa> CpuIsaFromEnvironment() {
  const char* v = std::getenv("ENSOLVE_CPU_ISA");
  return ParseCpuIsa(v == nullptr ? "" : v);
}

int CpuIsaLanes(CpuIsa isa, Precision precision) {
  switch (isa) {
    case CpuIsa::kSse2:
      return cpu::sse2::Lanes(precision);
    case CpuIsa::kAvx2:
      return cpu::avx2::Lanes(precision);
    case CpuIsa::kAvx512:
      return cpu::avx512::Lanes(precision);
  }
  return 0;
}

}  // namespace ensolve
