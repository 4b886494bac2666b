// Device side of the CUDA backend's sampled inputs: engine/sampler.cc's uniform and grid
// samplers, operation for operation, so the values are bitwise the host's (the integration
// tests compare results across batch sizes and devices). The host computes in IEEE double
// with separate multiplies and adds (x86-64 without FMA), so every floating-point
// operation here is an explicitly rounded intrinsic that NVCC cannot contract into an FMA.
// The normal sampler needs libm's log/cos/sqrt and stays on the host.
//
// Both kernels: one thread per row (trajectory first + k), out[k * dims + d] for every
// dimension d, row-major like BatchInputs.
#ifndef ENSOLVE_ENGINE_CUDA_DEVICE_SAMPLER_KERNEL_CUH_
#define ENSOLVE_ENGINE_CUDA_DEVICE_SAMPLER_KERNEL_CUH_

namespace ensolve_sampler {

typedef unsigned long long u64;

__device__ __forceinline__ u64 SplitMix64(u64 x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
__device__ __forceinline__ u64 Mix(u64 key, u64 counter) {
  return SplitMix64(key ^ SplitMix64(counter));
}

// 53 random bits as a double in [0, 1): exact, (h >> 11) < 2^53 and the scale is 2^-53.
__device__ __forceinline__ double UnitOpen1(u64 h) {
  return __dmul_rn(__ull2double_rn(h >> 11), __longlong_as_double(0x3ca0000000000000LL));
}
// lo + (hi - lo) * u
__device__ __forceinline__ double UniformValue(double lo, double hi, u64 h) {
  return __dadd_rn(lo, __dmul_rn(__dsub_rn(hi, lo), UnitOpen1(h)));
}
// Point k of n over [lo, hi]: lo + (hi - lo) * (k / (n - 1)), the ends exact.
__device__ __forceinline__ double GridValue(double lo, double hi, long long k, long long n) {
  if (n == 1) return lo;
  if (k == n - 1) return hi;
  return __dadd_rn(
      lo, __dmul_rn(__dsub_rn(hi, lo), __ddiv_rn(__ll2double_rn(k), __ll2double_rn(n - 1))));
}

}  // namespace ensolve_sampler

// key: SplitMix64(seed); lo, hi: [dims].
extern "C" __global__ void __launch_bounds__(256)
    ensolve_sample_uniform(double* __restrict__ out, const double* __restrict__ lo,
                           const double* __restrict__ hi, int dims, unsigned long long key,
                           long long first, long long count) {
  const long long k = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (k >= count) return;
  const ensolve_sampler::u64 row =
      ensolve_sampler::Mix(key, static_cast<ensolve_sampler::u64>(first + k));
  double* o = out + k * dims;
  for (int d = 0; d < dims; ++d) {
    o[d] = ensolve_sampler::UniformValue(
        lo[d], hi[d], ensolve_sampler::Mix(row, static_cast<ensolve_sampler::u64>(d)));
  }
}

// lo, hi, points: [dims]; size: the grid's number of points (saturated at INT64_MAX), the
// period of the rows. Digits of (first + k) mod size, last dimension fastest.
extern "C" __global__ void __launch_bounds__(256)
    ensolve_sample_grid(double* __restrict__ out, const double* __restrict__ lo,
                        const double* __restrict__ hi, const long long* __restrict__ points,
                        int dims, long long size, long long first, long long count) {
  const long long k = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (k >= count) return;
  long long rest = (first + k) % size;
  double* o = out + k * dims;
  for (int d = dims - 1; d >= 0; --d) {
    const long long n = points[d];
    o[d] = ensolve_sampler::GridValue(lo[d], hi[d], rest % n, n);
    rest /= n;
  }
}

#endif  // ENSOLVE_ENGINE_CUDA_DEVICE_SAMPLER_KERNEL_CUH_
