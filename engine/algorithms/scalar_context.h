// A host context for alg::Integrate that solves one trajectory with a plain scalar type and
// callables for the model: the reference the CPU and GPU backends are tested against, and
// the simplest example of the context contract (integrate.h).
#ifndef ENSOLVE_ENGINE_ALGORITHMS_SCALAR_CONTEXT_H_
#define ENSOLVE_ENGINE_ALGORITHMS_SCALAR_CONTEXT_H_

#include <functional>
#include <limits>
#include <vector>

#include "engine/algorithms/integrate.h"

namespace ensolve::alg {

template <class T>
class ScalarContext {
 public:
  using Scalar = T;
  using Real = T;
  using Mask = bool;
  using Index = int;
  // f(t, u) into du; df/du into J (n x n row-major); df/dt into dt.
  using RhsFn = std::function<void(T t, const T* u, T* du)>;

  struct Model {
    RhsFn rhs;
    RhsFn jacobian;         // needed by methods with kJacobian
    RhsFn time_derivative;  // needed by methods with kTimeDerivative
  };

  struct Result {
    std::vector<std::vector<T>> saved;  // [save point][state]; the final state if no saveat
    int retcode = -1;
    T t_final = T(0);
    int accepted = 0, rejected = 0, rhs_evals = 0;
  };

  ScalarContext(int n, Model model, std::vector<T> u0, std::vector<T> saveat, int vectors,
                int matrices)
      : n_(n),
        model_(std::move(model)),
        u0_(std::move(u0)),
        saveat_(std::move(saveat)),
        vecs_(static_cast<size_t>(vectors) * n),
        mats_(static_cast<size_t>(matrices) * n * n),
        piv_(n) {
    // Save points never reached stay NaN, as in every backend's output.
    result_.saved.assign(saveat_.empty() ? 1 : saveat_.size(),
                         std::vector<T>(n, std::numeric_limits<T>::quiet_NaN()));
  }

  int n() const { return n_; }
  T* vec(int j) { return &vecs_[j * n_]; }
  T* mat(int j) { return &mats_[static_cast<size_t>(j) * n_ * n_]; }
  int* pivots() { return piv_.data(); }
  void Rhs(T t, const T* u, T* du) { model_.rhs(t, u, du); }
  void Jacobian(T t, const T* u, T* J) { model_.jacobian(t, u, J); }
  void TimeDerivative(T t, const T* u, T* dt) { model_.time_derivative(t, u, dt); }
  int num_save() const { return static_cast<int>(saveat_.size()); }
  T SaveTime(int i) const {
    return i < num_save() ? saveat_[i] : std::numeric_limits<T>::infinity();
  }
  void Save(int i, const T* y, bool m) {
    if (m) result_.saved[i].assign(y, y + n_);
  }
  bool Begin(T* u) {
    for (int i = 0; i < n_; ++i) u[i] = u0_[i];
    return true;
  }
  bool Retire(bool done, int code, T t, const T* u, int accepted, int rejected, int rhs_evals) {
    if (!done) return false;
    if (saveat_.empty()) result_.saved[0].assign(u, u + n_);
    result_.retcode = code;
    result_.t_final = t;
    result_.accepted = accepted;
    result_.rejected = rejected;
    result_.rhs_evals = rhs_evals;
    return false;
  }
  bool Stop() const { return false; }

  const Result& result() const { return result_; }

 private:
  int n_;
  Model model_;
  std::vector<T> u0_, saveat_;
  std::vector<T> vecs_, mats_;
  std::vector<int> piv_;
  Result result_;
};

// Solves one trajectory with algorithm Alg.
template <class Alg, class T>
typename ScalarContext<T>::Result SolveScalar(int n, typename ScalarContext<T>::Model model,
                                              std::vector<T> u0, std::vector<T> saveat,
                                              const Controls<T>& controls) {
  ScalarContext<T> ctx(n, std::move(model), std::move(u0), std::move(saveat),
                       kDriverVectors + Alg::kVectors, Alg::kMatrices);
  Integrate<Alg>(ctx, controls);
  return ctx.result();
}

// The same for a model given by its right-hand side alone (explicit methods).
template <class Alg, class T>
typename ScalarContext<T>::Result SolveScalar(int n, typename ScalarContext<T>::RhsFn rhs,
                                              std::vector<T> u0, std::vector<T> saveat,
                                              const Controls<T>& controls) {
  return SolveScalar<Alg, T>(n, typename ScalarContext<T>::Model{std::move(rhs), {}, {}},
                             std::move(u0), std::move(saveat), controls);
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_SCALAR_CONTEXT_H_
