// The algorithm table: every fact about each integration method, in one place, read by
// request validation, GetServerInfo, the CPU backend's dispatch and the CUDA code
// generator.
//
// A method is one header in this folder (a struct with the static constants listed in
// AlgorithmInfo and Step/Interpolate templates; integrate.h states the contract) plus one
// row of ENSOLVE_ALGORITHMS below and its #include in table.cc and dispatch.h. Everything
// else about it (stage count, FSAL, storage) comes from the struct, where it is derived
// from the method's tableau.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_TABLE_H_
#define ENSOLVE_ENGINE_ALGORITHMS_TABLE_H_

#include <cstdint>

namespace ensolve {

// X(enumerator, wire name, C++ type in ensolve::alg, header): in the order GetServerInfo
// lists them.
#define ENSOLVE_ALGORITHMS(X) ENSOLVE_ODE_ALGORITHMS(X) ENSOLVE_SDE_ALGORITHMS(X)

// The ODE rows (alg::Integrate's methods).
#define ENSOLVE_ODE_ALGORITHMS(X)                                                    \
  X(kEuler, "euler", Euler, "engine/algorithms/euler.h")                             \
  X(kRK4, "rk4", RK4, "engine/algorithms/rk4.h")                                     \
  X(kTsit5, "tsit5", Tsit5, "engine/algorithms/tsit5.h")                             \
  X(kDP5, "dp5", DP5, "engine/algorithms/dp5.h")                                     \
  X(kVern7, "vern7", Vern7, "engine/algorithms/vern7.h")                             \
  X(kVern9, "vern9", Vern9, "engine/algorithms/vern9.h")                             \
  X(kRosenbrock23, "rosenbrock23", Rosenbrock23, "engine/algorithms/rosenbrock23.h") \
  X(kRodas4, "rodas4", Rodas4, "engine/algorithms/rodas4.h")                         \
  X(kRodas5, "rodas5", Rodas5, "engine/algorithms/rodas5.h")                         \
  X(kRodas5P, "rodas5p", Rodas5P, "engine/algorithms/rodas5p.h")                     \
  X(kKvaerno3, "kvaerno3", Kvaerno3, "engine/algorithms/kvaerno3.h")                 \
  X(kKvaerno5, "kvaerno5", Kvaerno5, "engine/algorithms/kvaerno5.h")                 \
  X(kTrbdf2, "trbdf2", Trbdf2, "engine/algorithms/trbdf2.h")

// The stochastic rows (SDE methods, integrate_sde.h), kept apart so that code generic over
// ODE methods (alg::Dispatch) need not instantiate them.
#define ENSOLVE_SDE_ALGORITHMS(X)            \
  X(kEM, "em", EM, "engine/algorithms/em.h") \
  X(kSIEA, "siea", SIEA, "engine/algorithms/siea.h")

enum class Algorithm : uint8_t {
#define ENSOLVE_ALGORITHM_ENUM(e, name, type, header) e,
  ENSOLVE_ALGORITHMS(ENSOLVE_ALGORITHM_ENUM)
#undef ENSOLVE_ALGORITHM_ENUM
};

inline constexpr int kNumAlgorithms = 0
#define ENSOLVE_ALGORITHM_COUNT(e, name, type, header) +1
    ENSOLVE_ALGORITHMS(ENSOLVE_ALGORITHM_COUNT)
#undef ENSOLVE_ALGORITHM_COUNT
    ;

struct AlgorithmInfo {
  Algorithm algorithm;
  const char* name;      // on the wire: "tsit5"
  const char* type;      // "::ensolve::alg::Tsit5", for generated code
  const char* header;    // "engine/algorithms/tsit5.h"
  int order;             // of the solution (stochastic methods: the weak order)
  int embedded_order;    // of the error estimate's companion; 0: none (fixed step only)
  bool adaptive;         // has an error estimate, may run with step control
  bool stiff;            // A-/L-stable, for stiff problems
  bool fsal;             // the last stage is f at the new point, reused by the next step
  int stages;            // right-hand side evaluations per step
  int dense_order;       // order of the dense output used for save points
  int vectors;           // n-vectors of per-trajectory storage besides u, unew and err
  int matrices;          // n x n matrices of per-trajectory storage
  bool jacobian;         // needs df/du
  bool time_derivative;  // needs df/dt
  bool stochastic;       // an SDE method: needs the model's noise g and the solve's seed
  int noise_matrices;    // n x m noise matrices of per-trajectory storage (SDE methods)
  bool diagonal_noise;   // needs noise where each state has at most one Wiener process
};

const AlgorithmInfo& GetAlgorithmInfo(Algorithm a);
// Every row, in table order.
const AlgorithmInfo* AlgorithmTable();

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_ALGORITHMS_TABLE_H_
