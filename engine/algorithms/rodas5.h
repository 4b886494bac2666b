// Rodas5: Di Marzo's stiffly accurate, L-stable Rosenbrock method of order 5 with an
// embedded order-4 solution (8 stages; rosenbrock.h has the step) and a fourth-order
// dense output.
//
// G. Di Marzo, "RODAS5(4) - Méthodes de Rosenbrock d'ordre 5(4) adaptées aux problèmes
// différentiels-algébriques", mémoire de diplôme, Université de Genève, 1993. Transformed
// coefficients (a = α Γ⁻¹, C = diag(1/γ) - Γ⁻¹, c = row sums of α, d = row sums of Γ, with
// γ = 0.19) and the dense-output matrix H as tabulated in OrdinaryDiffEq.jl
// (lib/OrdinaryDiffEqRosenbrock/src/rosenbrock_tableaus.jl, Rodas5Tableau, whose comment
// block lists Di Marzo's α, β and b from which they derive; rosenbrock_test.cc re-derives
// a, C, c and d from those).
#ifndef ENSOLVE_ENGINE_ALGORITHMS_RODAS5_H_
#define ENSOLVE_ENGINE_ALGORITHMS_RODAS5_H_

#include "engine/algorithms/hd.h"
#include "engine/algorithms/rosenbrock.h"

namespace ensolve::alg {

struct Rodas5Coefficients {
  static constexpr int kOrder = 5;
  static constexpr int kEmbeddedOrder = 4;
  static constexpr int kDenseOrder = 4;

  static ENSOLVE_HD_CONSTEXPR RosenbrockTableau<8, 3> Tableau() {
    return {
        0.19,
        {{},
         {2.0},
         {3.040894194418781, 1.041747909077569},
         {2.576417536461461, 1.622083060776640, -0.9089668560264532},
         {2.760842080225597, 1.446624659844071, -0.3036980084553738, 0.2877498600325443},
         {-14.09640773051259, 6.925207756232704, -41.47510893210728, 2.343771018586405,
          24.13215229196062},
         {-14.09640773051259, 6.925207756232704, -41.47510893210728, 2.343771018586405,
          24.13215229196062, 1.0},
         {-14.09640773051259, 6.925207756232704, -41.47510893210728, 2.343771018586405,
          24.13215229196062, 1.0, 1.0}},
        {{},
         {-10.31323885133993},
         {-21.04823117650003, -7.234992135176716},
         {32.22751541853323, -4.943732386540191, 19.44922031041879},
         {-20.69865579590063, -8.816374604402768, 1.260436877740897, -0.7495647613787146},
         {-46.22004352711257, -17.49534862857472, -289.6389582892057, 93.60855400400906,
          318.3822534212147},
         {34.20013733472935, -14.15535402717690, 57.82335640988400, 25.83362985412365,
          1.408950972071624, -6.551835421242162},
         {42.57076742291101, -13.80770672017997, 93.98938432427124, 18.77919633714503,
          -31.58359187223370, -6.685968952921985, -5.810979938412932}},
        {0.0, 0.38, 0.3878509998321533, 0.4839718937873840, 0.4570477008819580, 1.0, 1.0, 1.0},
        {0.19, -0.1823079225333714636, -0.319231832186874912, 0.3449828624725343,
         -0.377417564392089818, 0.0, 0.0, 0.0},
        {{27.354592673333357, -6.925207756232857, 26.40037733258859, 0.5635230501052979,
          -4.699151156849391, -1.6008677469422725, -1.5306074446748028, -1.3929872940716344},
         {44.19024239501722, 1.3677947663381929e-13, 202.93261852171622, -35.5669339789154,
          -181.91095152160645, 3.4116351403665033, 2.5793540257308067, 2.2435122582734066},
         {-44.0988150021747, -5.755396159656812e-13, -181.26175034586677, 56.99302194811676,
          183.21182741427398, -7.480257918273637, -5.792426076169686, -5.32503859794143}},
    };
  }
};

using Rodas5 = Rosenbrock<Rodas5Coefficients>;

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_RODAS5_H_
