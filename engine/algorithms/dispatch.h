// Calls a functor with the algorithm struct of a run-time Algorithm value: the CPU
// backend's one switch over methods, generated from the table.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_DISPATCH_H_
#define ENSOLVE_ENGINE_ALGORITHMS_DISPATCH_H_

#include "engine/algorithms/dp5.h"
#include "engine/algorithms/euler.h"
#include "engine/algorithms/kvaerno3.h"
#include "engine/algorithms/kvaerno5.h"
#include "engine/algorithms/rk4.h"
#include "engine/algorithms/rodas4.h"
#include "engine/algorithms/rodas5.h"
#include "engine/algorithms/rodas5p.h"
#include "engine/algorithms/rosenbrock23.h"
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

// f(Tag<Alg>{}) for the method `a`.
template <class F>
void Dispatch(Algorithm a, F&& f) {
  switch (a) {
#define ENSOLVE_ALGORITHM_CASE(e, name, type, header) \
  case Algorithm::e:                                  \
    return f(Tag<type>{});
    ENSOLVE_ALGORITHMS(ENSOLVE_ALGORITHM_CASE)
#undef ENSOLVE_ALGORITHM_CASE
  }
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_DISPATCH_H_
