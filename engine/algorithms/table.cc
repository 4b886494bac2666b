#include "engine/algorithms/table.h"

#include "engine/algorithms/dispatch.h"

namespace ensolve {
namespace {

// The SDE columns, false / 0 for a method that does not declare them (ODE methods).
template <class Alg, class = void>
struct SdeFacts {
  static constexpr bool stochastic = false;
  static constexpr int noise_matrices = 0;
  static constexpr bool diagonal_noise = false;
};
template <class Alg>
struct SdeFacts<Alg, decltype(void(Alg::kStochastic))> {
  static constexpr bool stochastic = Alg::kStochastic;
  static constexpr int noise_matrices = Alg::kNoiseMatrices;
  static constexpr bool diagonal_noise = Alg::kDiagonalNoise;
};

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
                       Alg::kTimeDerivative,
                       SdeFacts<Alg>::stochastic,
                       SdeFacts<Alg>::noise_matrices,
                       SdeFacts<Alg>::diagonal_noise};
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
