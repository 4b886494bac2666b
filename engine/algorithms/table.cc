#include "engine/algorithms/table.h"

#include "engine/algorithms/dispatch.h"

namespace ensolve {
namespace {

template <class Alg>
constexpr AlgorithmInfo Row(Algorithm a, const char* name, const char* type, const char* header) {
  return AlgorithmInfo{a,
                       name,
                       type,
                       header,
                       Alg::kOrder,
                       Alg::kEmbeddedOrder,
                       Alg::kAdaptive,
                       Alg::kStiff,
                       Alg::kFsal,
                       Alg::kStages,
                       Alg::kDenseOrder,
                       Alg::kVectors,
                       Alg::kMatrices,
                       Alg::kJacobian,
                       Alg::kTimeDerivative};
}

constexpr AlgorithmInfo kTable[] = {
#define ENSOLVE_ALGORITHM_ROW(e, name, type, header) \
  Row<alg::type>(Algorithm::e, name, "::ensolve::alg::" #type, header),
    ENSOLVE_ALGORITHMS(ENSOLVE_ALGORITHM_ROW)
#undef ENSOLVE_ALGORITHM_ROW
};
static_assert(sizeof(kTable) / sizeof(kTable[0]) == kNumAlgorithms);

}  // namespace

const AlgorithmInfo& GetAlgorithmInfo(Algorithm a) { return kTable[static_cast<int>(a)]; }
const AlgorithmInfo* AlgorithmTable() { return kTable; }

}  // namespace ensolve
