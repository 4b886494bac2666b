#include "bench/l96_ceiling.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ensolve::bench {
namespace {

template <int N, class T>
inline void F(T forcing, const T* u, T* du) {
  for (int i = 0; i < N; ++i) {
    du[i] = (u[(i + 1) % N] - u[(i + N - 2) % N]) * u[(i + N - 1) % N] - u[i] + forcing;
  }
}

template <int N, class T>
void SolveOne(T forcing, const CeilingOptions& o, T* out) {
  // Tsitouras (2011), as in engine/algorithms/tsit5.h.
  const T a21 = T(0.161), a31 = T(-0.008480655492356989), a32 = T(0.335480655492357),
          a41 = T(2.8971530571054935), a42 = T(-6.359448489975075), a43 = T(4.3622954328695815),
          a51 = T(5.325864828439257), a52 = T(-11.748883564062828), a53 = T(7.4955393428898365),
          a54 = T(-0.09249506636175525), a61 = T(5.86145544294642), a62 = T(-12.92096931784711),
          a63 = T(8.159367898576159), a64 = T(-0.071584973281401), a65 = T(-0.028269050394068383),
          b1 = T(0.09646076681806523), b2 = T(0.01), b3 = T(0.4798896504144996),
          b4 = T(1.379008574103742), b5 = T(-3.290069515436081), b6 = T(2.324710524099774);
  const T e1 = T(-0.00178001105222577714), e2 = T(-0.0008164344596567469),
          e3 = T(0.007880878010261995), e4 = T(-0.1447110071732629), e5 = T(0.5823571654525552),
          e6 = T(-0.45808210592918697), e7 = T(1.0 / 66.0);
  T u[N], k1[N], k2[N], k3[N], k4[N], k5[N], k6[N], k7[N], tmp[N], un[N];
  for (int i = 0; i < N; ++i) u[i] = i == 0 ? T(8.01) : T(8);
  F<N>(forcing, u, k1);
  T t = 0, h = T(o.dt);
  float log_qold = std::log(1e-4f);
  const T t1 = T(o.t1);
  int64_t step = 0;
  while (t < t1) {
    bool last;
    if (o.adaptive) {
      last = t + h * T(1.01) >= t1;
      if (last) h = t1 - t;
    } else {
      const T tn = T(step + 1) * T(o.dt);
      last = tn >= t1 * (1 - T(1e-6));
      h = (last ? t1 : tn) - t;
    }
    const T hs = h;
    for (int i = 0; i < N; ++i) tmp[i] = u[i] + h * (a21 * k1[i]);
    F<N>(forcing, tmp, k2);
    for (int i = 0; i < N; ++i) tmp[i] = u[i] + h * (a31 * k1[i] + a32 * k2[i]);
    F<N>(forcing, tmp, k3);
    for (int i = 0; i < N; ++i) tmp[i] = u[i] + h * (a41 * k1[i] + a42 * k2[i] + a43 * k3[i]);
    F<N>(forcing, tmp, k4);
    for (int i = 0; i < N; ++i) {
      tmp[i] = u[i] + h * (a51 * k1[i] + a52 * k2[i] + a53 * k3[i] + a54 * k4[i]);
    }
    F<N>(forcing, tmp, k5);
    for (int i = 0; i < N; ++i) {
      tmp[i] = u[i] + h * (a61 * k1[i] + a62 * k2[i] + a63 * k3[i] + a64 * k4[i] + a65 * k5[i]);
    }
    F<N>(forcing, tmp, k6);
    for (int i = 0; i < N; ++i) {
      un[i] =
          u[i] + h * (b1 * k1[i] + b2 * k2[i] + b3 * k3[i] + b4 * k4[i] + b5 * k5[i] + b6 * k6[i]);
    }
    F<N>(forcing, un, k7);
    bool accept = true;
    if (o.adaptive) {
      T sum = 0;
      for (int i = 0; i < N; ++i) {
        const T err = h * (e1 * k1[i] + e2 * k2[i] + e3 * k3[i] + e4 * k4[i] + e5 * k5[i] +
                           e6 * k6[i] + e7 * k7[i]);
        const T sc = T(o.tol) + T(o.tol) * std::max(std::abs(u[i]), std::abs(un[i]));
        sum += (err / sc) * (err / sc);
      }
      const T q = std::sqrt(sum / N);
      accept = q <= 1;
      // PI control with float32 exp/log, as the engine's controller.
      const float lq = std::log(static_cast<float>(q));
      const T q11 = std::exp(0.14f * lq);
      if (accept) {
        const T fac = std::clamp(T(std::exp(0.14f * lq - 0.08f * log_qold)) / T(0.9), T(0.1), T(5));
        log_qold = std::max(lq, std::log(1e-4f));
        h = h / fac;
      } else {
        h = h / std::min(T(5), q11 / T(0.9));
        last = false;
      }
    }
    if (accept) {
      for (int i = 0; i < N; ++i) {
        u[i] = un[i];
        k1[i] = k7[i];
      }
      t = last ? t1 : t + hs;
      ++step;
    }
  }
  for (int i = 0; i < N; ++i) out[i] = u[i];
}

}  // namespace

std::string L96Model(int n) {
  std::string s = absl::StrCat("# Lorenz-96, N = ", n, "\nstate u0 = 8.01");
  for (int i = 1; i < n; ++i) absl::StrAppend(&s, ", u", i, " = 8");
  absl::StrAppend(&s, "\nparam F = 8\n");
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&s, "u", i, "' = (u", (i + 1) % n, " - u", (i + n - 2) % n, ")*u",
                    (i + n - 1) % n, " - u", i, " + F\n");
  }
  return s;
}

template <int N, class T>
void SolveL96Ceiling(const double* f, int64_t n, const CeilingOptions& o, int threads, T* out) {
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (;;) {
      const int64_t begin = next.fetch_add(16);
      if (begin >= n) return;
      const int64_t end = std::min<int64_t>(n, begin + 16);
      for (int64_t i = begin; i < end; ++i) SolveOne<N, T>(T(f[i]), o, out + N * i);
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

template void SolveL96Ceiling<16, float>(const double*, int64_t, const CeilingOptions&, int,
                                         float*);
template void SolveL96Ceiling<16, double>(const double*, int64_t, const CeilingOptions&, int,
                                          double*);
template void SolveL96Ceiling<32, float>(const double*, int64_t, const CeilingOptions&, int,
                                         float*);
template void SolveL96Ceiling<32, double>(const double*, int64_t, const CeilingOptions&, int,
                                          double*);

}  // namespace ensolve::bench
