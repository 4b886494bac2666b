// A host context for alg::Integrate that solves one trajectory with a plain scalar type and
// a callable right-hand side: the reference the CPU and GPU backends are tested against,
// and the simplest example of the context contract (integrate.h).
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
  using RhsFn = std::function<void(T t, const T* u, T* du)>;

  struct Result {
    std::vector<std::vector<T>> saved;  // [save point][state]; the final state if no saveat
    int retcode = -1;
    int accepted = 0, rejected = 0, rhs_evals = 0;
  };

  ScalarContext(int n, RhsFn rhs, std::vector<T> u0, std::vector<T> saveat)
      : n_(n),
        rhs_(std::move(rhs)),
        u0_(std::move(u0)),
        saveat_(std::move(saveat)),
        vecs_(kIntegrateVectors * n) {
    result_.saved.assign(saveat_.empty() ? 1 : saveat_.size(), std::vector<T>(n));
  }

  int n() const { return n_; }
  T* vec(int j) { return &vecs_[j * n_]; }
  void Rhs(T t, const T* u, T* du) { rhs_(t, u, du); }
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
  bool Retire(bool done, int code, const T* u, int accepted, int rejected, int rhs_evals) {
    if (!done) return false;
    if (saveat_.empty()) result_.saved[0].assign(u, u + n_);
    result_.retcode = code;
    result_.accepted = accepted;
    result_.rejected = rejected;
    result_.rhs_evals = rhs_evals;
    return false;
  }
  bool Stop() const { return false; }

  const Result& result() const { return result_; }

 private:
  int n_;
  RhsFn rhs_;
  std::vector<T> u0_, saveat_;
  std::vector<T> vecs_;
  Result result_;
};

// Solves one trajectory with algorithm Alg.
template <class Alg, class T>
typename ScalarContext<T>::Result SolveScalar(int n, typename ScalarContext<T>::RhsFn rhs,
                                              std::vector<T> u0, std::vector<T> saveat,
                                              const Controls<T>& controls) {
  ScalarContext<T> ctx(n, std::move(rhs), std::move(u0), std::move(saveat));
  Integrate<Alg>(ctx, controls);
  return ctx.result();
}

}  // namespace ensolve::alg

#endif  // ENSOLVE_ENGINE_ALGORITHMS_SCALAR_CONTEXT_H_
