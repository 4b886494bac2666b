#include "engine/cpu/isa.h"

#include <cpuid.h>

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

namespace {

// Whether the build has `isa`'s solve code: every set, unless -DENSOLVE_CPU_ISAS_ONLY
// (engine/CMakeLists.txt) named some.
bool CpuIsaBuilt(CpuIsa isa) {
#ifdef ENSOLVE_CPU_ISAS_ONLY
  switch (isa) {
    case CpuIsa::kSse2:
      return ENSOLVE_CPU_ISA_BUILT_SSE2 == 1;
    case CpuIsa::kAvx2:
      return ENSOLVE_CPU_ISA_BUILT_AVX2 == 1;
    case CpuIsa::kAvx512:
      return ENSOLVE_CPU_ISA_BUILT_AVX512 == 1;
  }
  return false;
#else
  (void)isa;
  return true;
#endif
}

// BMI1, BMI2, F16C and MOVBE from cpuid: clang 14's __builtin_cpu_supports does not know
// their names (GCC's does).
bool HasX86V3Extras() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool f16c = (c >> 29) & 1, movbe = (c >> 22) & 1;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool bmi1 = (b >> 3) & 1, bmi2 = (b >> 8) & 1;
  return f16c && movbe && bmi1 && bmi2;
}

}  // namespace

bool CpuIsaSupported(CpuIsa isa) {
  if (!CpuIsaBuilt(isa)) return false;
  // What -march=x86-64-v3 and -march=x86-64-v4 (engine/CMakeLists.txt) let the compiler use.
  switch (isa) {
    case CpuIsa::kSse2:
      return true;
    case CpuIsa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && HasX86V3Extras();
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
  return CpuIsa::kSse2;  // every build has it (engine/CMakeLists.txt)
}

absl::StatusOr<CpuIsa> ParseCpuIsa(absl::string_view value) {
  if (value.empty() || value == "auto") return BestCpuIsa();
  for (CpuIsa isa : kCpuIsas) {
    if (value != CpuIsaName(isa)) continue;
    if (!CpuIsaBuilt(isa)) {
      return absl::FailedPreconditionError(
          absl::StrCat("ENSOLVE_CPU_ISA=", value,
                       ": this build leaves it out (built with -DENSOLVE_CPU_ISAS_ONLY; best: ",
                       CpuIsaName(BestCpuIsa()), ")"));
    }
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
