// Calls a functor with the algorithm struct of a run-time Algorithm value: the CPU
// backend's one switch over methods, generated from the table.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_DISPATCH_H_
#define ENSOLVE_ENGINE_ALGORITHMS_DISPATCH_H_

#include "engine/algorithms/dp5.h"
#include "engine/algorithms/em.h"
#include "engine/algorithms/euler.h"
#include "engine/algorithms/kvaerno3.h"
#include "engine/algorithms/kvaerno5.h"
#include "engine/algorithms/rk4.h"
#include "engine/algorithms/rodas4.h"
#include "engine/algorithms/rodas5.h"
#include "engine/algorithms/rodas5p.h"
#include "engine/algorithms/rosenbrock23.h"
#include "engine/algorithms/siea.h"
#include "engine/algorithms/table.h"
#include "engine/algorithms/trbdf2.h"
#include "engine/algorithms/tsit5.h"
#include "engine/algorithms/vern7.h"
#include "engine/algorithms/vern9.h"

namespace ensolve::alg {

template <class Alg>
struct Tag {
  using type = Alg;
};

#define ENSOLVE_ALGORITHM_CASE(e, name, type, header) \
  case Algorithm::e:                                  \
    return f(Tag<type>{});

// f(Tag<Alg>{}) for the ODE method `a` (alg::Integrate's); nothing for an SDE method.
template <class F>
void Dispatch(Algorithm a, F&& f) {
  switch (a) {
    ENSOLVE_ODE_ALGORITHMS(ENSOLVE_ALGORITHM_CASE)
    default:
      return;
  }
}

// f(Tag<Alg>{}) for the SDE method `a` (alg::IntegrateSde's); nothing for an ODE method.
template <class F>
void DispatchSde(Algorithm a, F&& f) {
  switch (a) {
    ENSOLVE_SDE_ALGORITHMS(ENSOLVE_ALGORITHM_CASE)
    default:
      return;
  }
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_DISPATCH_H_
