// Rodas4: Hairer & Wanner's stiffly accurate, L-stable Rosenbrock method of order 4 with an
// embedded order-3 solution (6 stages, all at distinct states; rosenbrock.h has the step)
// and a third-order dense output.
//
// E. Hairer and G. Wanner, "Solving Ordinary Differential Equations II", 2nd ed., Springer
// 1996, section IV.7 (Rosenbrock methods in transformed form; the method RODAS); the
// numbers are those of their Fortran code rodas.f (METH = 1), transformed, and with the
// dense-output matrix H as tabulated in OrdinaryDiffEq.jl (lib/OrdinaryDiffEqRosenbrock/
// src/rosenbrock_tableaus.jl, Rodas4Tableau) and DiffEqGPU.jl (src/ensemblegpukernel/
// tableaus/rodas_tableaus.jl, Rodas4Tableau), which agree digit for digit.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_RODAS4_H_
#define ENSOLVE_ENGINE_ALGORITHMS_RODAS4_H_

#include "engine/algorithms/hd.h"
#include "engine/algorithms/rosenbrock.h"

namespace ensolve::alg {

struct Rodas4Coefficients {
  static constexpr int kOrder = 4;
  static constexpr int kEmbeddedOrder = 3;
  static constexpr int kDenseOrder = 3;

  static ENSOLVE_HD_CONSTEXPR RosenbrockTableau<6, 2> Tableau() {
    return {
        0.25,
        {{},
         {1.544},
         {0.9466785280815826, 0.2557011698983284},
         {3.314825187068521, 2.896124015972201, 0.9986419139977817},
         {1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950},
         {1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 1.0}},
        {{},
         {-5.6688},
         {-2.430093356833875, -0.2063599157091915},
         {-0.1073529058151375, -9.594562251023355, -20.47028614809616},
         {7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160},
         {8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136,
          -6.058818238834054}},
        {0.0, 0.386, 0.21, 0.63, 1.0, 1.0},
        {0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0},
        {{10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823,
          1.025137723295662, 0.0},
         {-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386,
          -6.594389125716872, 0.0}},
    };
  }
};

using Rodas4 = Rosenbrock<Rodas4Coefficients>;

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_RODAS4_H_
