// Hand-written, fully compiled Tsit5 for the Lorenz system: the ceilings an interpreted
// model is measured against. Independent of engine/algorithms' step code on purpose (same
// tableau, same controller, written out by hand for three states):
//   - SolveLorenzCeilingSimd: structure-of-arrays blocks of 32 float32 / 16 float64
//     trajectories, compiled -O3 -march=native so that every stage runs in vector
//     registers (lorenz_ceiling_simd.cc): the yardstick of the CPU backend;
//   - SolveLorenzCeiling: one trajectory at a time, scalar (lorenz_ceiling.cc).
#ifndef ENSOLVE_BENCH_LORENZ_CEILING_H_
#define ENSOLVE_BENCH_LORENZ_CEILING_H_

#include <cstdint>

namespace ensolve::bench {

struct CeilingOptions {
  double t1 = 1.0;
  double dt = 1e-3;  // fixed step, or the first step when adaptive
  bool adaptive = false;
  double tol = 1e-6;  // abstol = reltol
};

// Solves trajectory i with rho = rho[i] (sigma = 10, beta = 8/3, u0 = (1, 0, 0)) from 0
// to t1 on `threads` threads; writes the final state to out[3 i .. 3 i + 2].
template <class T>
void SolveLorenzCeiling(const double* rho, int64_t n, const CeilingOptions& o, int threads, T* out);

// The same, vectorized; returns the steps taken (accepted and rejected, summed over lanes).
template <class T>
int64_t SolveLorenzCeilingSimd(const double* rho, int64_t n, const CeilingOptions& o, int threads,
                               T* out);

}  // namespace ensolve::bench

#endif  // ENSOLVE_BENCH_LORENZ_CEILING_H_
