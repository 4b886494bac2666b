// Lorenz-96 with N states, du_i = (u_{i+1} - u_{i-2}) u_{i-1} - u_i + F (indices mod N), the
// wider models of the engine benchmark: the model text for ensolve and a hand-written,
// compiled Tsit5 for it that solves one trajectory at a time (the scalar ceiling).
#ifndef ENSOLVE_BENCH_L96_CEILING_H_
#define ENSOLVE_BENCH_L96_CEILING_H_

#include <cstdint>
#include <string>

#include "bench/lorenz_ceiling.h"

namespace ensolve::bench {

// The model: states u0 = 8.01, u1 ... u{N-1} = 8; parameter F = 8.
std::string L96Model(int n);

// Solves trajectory i with F = f[i] from 0 to o.t1 on `threads` threads (N = 16 or 32);
// writes the final state to out[N i .. N i + N - 1].
template <int N, class T>
void SolveL96Ceiling(const double* f, int64_t n, const CeilingOptions& o, int threads, T* out);

}  // namespace ensolve::bench

#endif  // ENSOLVE_BENCH_L96_CEILING_H_
