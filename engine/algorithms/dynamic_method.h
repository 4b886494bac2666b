// A method for the integration driver (integrate.h, IntegrateMethod) as run-time values:
// the facts of its row and pointers to its Step and Interpolate. The CPU backend runs every
// ODE method through one driver per lane context with it. Host only: the GPU kernel is
// generated for one method and uses StaticMethod.
#ifndef ENSOLVE_ENGINE_ALGORITHMS_DYNAMIC_METHOD_H_
#define ENSOLVE_ENGINE_ALGORITHMS_DYNAMIC_METHOD_H_

#include <algorithm>
#include <initializer_list>

#include "engine/algorithms/dispatch.h"
#include "engine/algorithms/integrate.h"

namespace ensolve::alg {

// The most k[] vectors an ODE method of the table has: the driver's bound.
inline constexpr int kMaxOdeVectors = std::max({
#define ENSOLVE_ALGORITHM_VECTORS(e, name, type, header) type::kVectors,
    ENSOLVE_ODE_ALGORITHMS(ENSOLVE_ALGORITHM_VECTORS)
#undef ENSOLVE_ALGORITHM_VECTORS
});

template <class Ctx>
struct DynamicMethod {
  using S = typename Ctx::Scalar;
  using R = typename Ctx::Real;
  using M = typename Ctx::Mask;
  using I = typename Ctx::Index;
  using StepFn = void (*)(Ctx&, R, R, const R*, R*, R*, R* const*, M&, StepControls<S, I>&);
  using InterpolateFn = void (*)(Ctx&, R, R, R, const R*, R* const*, R*, bool);

  static constexpr int kMaxVectors = kMaxOdeVectors;
  bool adaptive = false;
  bool fsal = false;
  int fsal_stage = 0;
  int order = 1;
  int stages = 0;
  int lazy_stages = 0;
  int vectors = 0;
  int matrices = 0;  // not the driver's: the context's storage
  StepFn step = nullptr;
  InterpolateFn interpolate = nullptr;

  void Step(Ctx& c, R t, R h, const R* u, R* unew, R* err, R* const* k, M& fail,
            StepControls<S, I>& sc) const {
    step(c, t, h, u, unew, err, k, fail, sc);
  }
  void Interpolate(Ctx& c, R t, R theta, R h, const R* u, R* const* k, R* y, bool first) const {
    interpolate(c, t, theta, h, u, k, y, first);
  }
};

template <class Ctx, class Alg>
DynamicMethod<Ctx> DynamicMethodOf() {
  using Static = StaticMethod<Alg>;
  using D = DynamicMethod<Ctx>;
  D m;
  m.adaptive = Static::adaptive;
  m.fsal = Static::fsal;
  m.fsal_stage = Static::fsal_stage;
  m.order = Static::order;
  m.stages = Static::stages;
  m.lazy_stages = Static::lazy_stages;
  m.vectors = Static::vectors;
  m.matrices = Alg::kMatrices;
  m.step = &Static::template Step<Ctx, typename D::R, typename D::M, typename D::S, typename D::I>;
  m.interpolate = &Static::template Interpolate<Ctx, typename D::R>;
  return m;
}

// The ODE method `a`; a DynamicMethod with null pointers for an SDE method.
template <class Ctx>
DynamicMethod<Ctx> DynamicMethodFor(Algorithm a) {
  DynamicMethod<Ctx> m;
  Dispatch(a, [&](auto tag) { m = DynamicMethodOf<Ctx, typename decltype(tag)::type>(); });
  return m;
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_DYNAMIC_METHOD_H_
