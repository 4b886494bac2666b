// The vectorized ceiling: Tsit5 for Lorenz written by hand over structure-of-arrays blocks of
// kBlock<T> trajectories (32 float32 / 16 float64: two AVX-512 registers per value), every
// stage one loop over the block's lanes, compiled with -O3 -march=native (bench/CMakeLists.txt)
// so that each loop becomes vector instructions. The adaptive solver keeps a t, h and
// accept decision per lane with the controller of engine/algorithms/controller.h (the same
// float32 log and exp, PortableLogf/PortableExpf); a block runs until its last lane is done.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

#include "bench/lorenz_ceiling.h"
#include "engine/algorithms/controller.h"
#include "engine/algorithms/hd.h"

namespace ensolve::bench {
namespace {

template <class T>
constexpr int kBlock = 64 / sizeof(T) * 2;

// Tsitouras (2011), as in engine/algorithms/tsit5.h.
template <class T>
struct Tab {
  static constexpr T a21 = T(0.161), a31 = T(-0.008480655492356989), a32 = T(0.335480655492357),
                     a41 = T(2.8971530571054935), a42 = T(-6.359448489975075),
                     a43 = T(4.3622954328695815), a51 = T(5.325864828439257),
                     a52 = T(-11.748883564062828), a53 = T(7.4955393428898365),
                     a54 = T(-0.09249506636175525), a61 = T(5.86145544294642),
                     a62 = T(-12.92096931784711), a63 = T(8.159367898576159),
                     a64 = T(-0.071584973281401), a65 = T(-0.028269050394068383),
                     b1 = T(0.09646076681806523), b2 = T(0.01), b3 = T(0.4798896504144996),
                     b4 = T(1.379008574103742), b5 = T(-3.290069515436081),
                     b6 = T(2.324710524099774);
  static constexpr T e1 = T(-0.00178001105222577714), e2 = T(-0.0008164344596567469),
                     e3 = T(0.007880878010261995), e4 = T(-0.1447110071732629),
                     e5 = T(0.5823571654525552), e6 = T(-0.45808210592918697), e7 = T(1.0 / 66.0);
};

// One lane's step of size hh from (u0, u1, u2) with f(u0, u1, u2) = f1: the new state and,
// when E, the error estimate; k7 = f(new state). Called inside loops over a block's lanes.
template <class T, bool E>
inline __attribute__((always_inline)) void Step(T r, T hh, T u0, T u1, T u2, T f1x, T f1y, T f1z,
                                                T& nx, T& ny, T& nz, T& k7x, T& k7y, T& k7z, T& ex,
                                                T& ey, T& ez) {
  using C = Tab<T>;
  const T beta = T(8.0 / 3.0);
#define ENSOLVE_LORENZ(X, Y, Z, DX, DY, DZ) \
  const T DX = T(10) * ((Y) - (X));         \
  const T DY = (X) * (r - (Z)) - (Y);       \
  const T DZ = (X) * (Y)-beta * (Z)
  T px = u0 + hh * (C::a21 * f1x), py = u1 + hh * (C::a21 * f1y), pz = u2 + hh * (C::a21 * f1z);
  ENSOLVE_LORENZ(px, py, pz, f2x, f2y, f2z);
  px = u0 + hh * (C::a31 * f1x + C::a32 * f2x);
  py = u1 + hh * (C::a31 * f1y + C::a32 * f2y);
  pz = u2 + hh * (C::a31 * f1z + C::a32 * f2z);
  ENSOLVE_LORENZ(px, py, pz, f3x, f3y, f3z);
  px = u0 + hh * (C::a41 * f1x + C::a42 * f2x + C::a43 * f3x);
  py = u1 + hh * (C::a41 * f1y + C::a42 * f2y + C::a43 * f3y);
  pz = u2 + hh * (C::a41 * f1z + C::a42 * f2z + C::a43 * f3z);
  ENSOLVE_LORENZ(px, py, pz, f4x, f4y, f4z);
  px = u0 + hh * (C::a51 * f1x + C::a52 * f2x + C::a53 * f3x + C::a54 * f4x);
  py = u1 + hh * (C::a51 * f1y + C::a52 * f2y + C::a53 * f3y + C::a54 * f4y);
  pz = u2 + hh * (C::a51 * f1z + C::a52 * f2z + C::a53 * f3z + C::a54 * f4z);
  ENSOLVE_LORENZ(px, py, pz, f5x, f5y, f5z);
  px = u0 + hh * (C::a61 * f1x + C::a62 * f2x + C::a63 * f3x + C::a64 * f4x + C::a65 * f5x);
  py = u1 + hh * (C::a61 * f1y + C::a62 * f2y + C::a63 * f3y + C::a64 * f4y + C::a65 * f5y);
  pz = u2 + hh * (C::a61 * f1z + C::a62 * f2z + C::a63 * f3z + C::a64 * f4z + C::a65 * f5z);
  ENSOLVE_LORENZ(px, py, pz, f6x, f6y, f6z);
  nx =
      u0 + hh * (C::b1 * f1x + C::b2 * f2x + C::b3 * f3x + C::b4 * f4x + C::b5 * f5x + C::b6 * f6x);
  ny =
      u1 + hh * (C::b1 * f1y + C::b2 * f2y + C::b3 * f3y + C::b4 * f4y + C::b5 * f5y + C::b6 * f6y);
  nz =
      u2 + hh * (C::b1 * f1z + C::b2 * f2z + C::b3 * f3z + C::b4 * f4z + C::b5 * f5z + C::b6 * f6z);
  ENSOLVE_LORENZ(nx, ny, nz, f7x, f7y, f7z);
#undef ENSOLVE_LORENZ
  k7x = f7x;
  k7y = f7y;
  k7z = f7z;
  if constexpr (E) {
    ex = hh * (C::e1 * f1x + C::e2 * f2x + C::e3 * f3x + C::e4 * f4x + C::e5 * f5x + C::e6 * f6x +
               C::e7 * f7x);
    ey = hh * (C::e1 * f1y + C::e2 * f2y + C::e3 * f3y + C::e4 * f4y + C::e5 * f5y + C::e6 * f6y +
               C::e7 * f7y);
    ez = hh * (C::e1 * f1z + C::e2 * f2z + C::e3 * f3z + C::e4 * f4z + C::e5 * f5z + C::e6 * f6z +
               C::e7 * f7z);
  }
}

template <class T>
int64_t SolveBlock(const double* rho_in, int count, const CeilingOptions& o, T* out) {
  constexpr int B = kBlock<T>;
  alignas(64) T rho[B], x[B], y[B], z[B], kx[B], ky[B], kz[B], h[B], t[B], lqold[B];
  alignas(64) int done[B];
  for (int l = 0; l < B; ++l) {
    rho[l] = T(rho_in[l < count ? l : count - 1]);
    x[l] = 1;
    y[l] = 0;
    z[l] = 0;
    kx[l] = -10;  // f(1, 0, 0)
    ky[l] = rho[l];
    kz[l] = 0;
    h[l] = T(o.dt);
    t[l] = 0;
    lqold[l] = T(alg::kLogQoldInit);
    done[l] = 0;
  }
  const T t1 = T(o.t1);
  int64_t steps = 0;
  if (!o.adaptive) {
    const int nsteps = static_cast<int>(std::lround(o.t1 / o.dt));
    for (int s = 0; s < nsteps; ++s) {
      const T hs = s + 1 == nsteps ? t1 - T(s) * T(o.dt) : T(o.dt);
#pragma GCC ivdep
      for (int l = 0; l < B; ++l) {
        T nx, ny, nz, fx, fy, fz, ex, ey, ez;
        Step<T, false>(rho[l], hs, x[l], y[l], z[l], kx[l], ky[l], kz[l], nx, ny, nz, fx, fy, fz,
                       ex, ey, ez);
        x[l] = nx;
        y[l] = ny;
        z[l] = nz;
        kx[l] = fx;
        ky[l] = fy;
        kz[l] = fz;
      }
    }
    steps = int64_t{nsteps} * count;
  } else {
    constexpr T kBeta1 = T(7.0 / 50.0), kBeta2 = T(2.0 / 25.0);
    const T tol = T(o.tol);
    for (int iter = 0; iter < 100000; ++iter) {
      int active = 0;
#pragma GCC ivdep
      for (int l = 0; l < B; ++l) {
        const bool last = t[l] + h[l] * T(1.01) - t1 >= T(0);
        const T hs = last ? t1 - t[l] : h[l];
        T nx, ny, nz, fx, fy, fz, ex, ey, ez;
        Step<T, true>(rho[l], hs, x[l], y[l], z[l], kx[l], ky[l], kz[l], nx, ny, nz, fx, fy, fz, ex,
                      ey, ez);
        const T sx = tol + tol * std::max(std::abs(x[l]), std::abs(nx));
        const T sy = tol + tol * std::max(std::abs(y[l]), std::abs(ny));
        const T sz = tol + tol * std::max(std::abs(z[l]), std::abs(nz));
        const T q = std::sqrt(
            ((ex / sx) * (ex / sx) + (ey / sy) * (ey / sy) + (ez / sz) * (ez / sz)) / T(3));
        const bool live = !done[l];
        const bool accept = live & (q <= T(1));
        const bool finite = q - q == T(0);
        const T lq = T(alg::PortableLogf(static_cast<float>(finite ? q : T(1e30))));
        const T q11 = T(alg::PortableExpf(static_cast<float>(kBeta1 * lq)));
        const T fac = std::max(T(0.1), std::min(T(5), T(alg::PortableExpf(static_cast<float>(
                                                          kBeta1 * lq - kBeta2 * lqold[l]))) /
                                                          T(0.9)));
        const T fac_rej = std::min(T(5), q11 / T(0.9));
        const T hnew = hs / (accept ? fac : fac_rej);
        lqold[l] = accept ? std::max(lq, T(alg::kLogQoldInit)) : lqold[l];
        h[l] = live ? hnew : h[l];
        x[l] = accept ? nx : x[l];
        y[l] = accept ? ny : y[l];
        z[l] = accept ? nz : z[l];
        kx[l] = accept ? fx : kx[l];
        ky[l] = accept ? fy : ky[l];
        kz[l] = accept ? fz : kz[l];
        t[l] = accept ? (last ? t1 : t[l] + hs) : t[l];
        done[l] = done[l] | (accept & last);
        active += live;
      }
      if (active == 0) break;
      steps += active;  // lanes past count are counted too; they are few
    }
  }
  for (int l = 0; l < count; ++l) {
    out[3 * l] = x[l];
    out[3 * l + 1] = y[l];
    out[3 * l + 2] = z[l];
  }
  return steps;
}

}  // namespace

template <class T>
int64_t SolveLorenzCeilingSimd(const double* rho, int64_t n, const CeilingOptions& o, int threads,
                               T* out) {
  constexpr int B = kBlock<T>;
  std::atomic<int64_t> next{0}, steps{0};
  auto work = [&] {
    int64_t mine = 0;
    for (;;) {
      const int64_t begin = next.fetch_add(B);
      if (begin >= n) break;
      const int count = static_cast<int>(std::min<int64_t>(B, n - begin));
      mine += SolveBlock<T>(rho + begin, count, o, out + 3 * begin);
    }
    steps += mine;
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  return steps.load();
}

template int64_t SolveLorenzCeilingSimd<float>(const double*, int64_t, const CeilingOptions&, int,
                                               float*);
template int64_t SolveLorenzCeilingSimd<double>(const double*, int64_t, const CeilingOptions&, int,
                                                double*);

}  // namespace ensolve::bench
