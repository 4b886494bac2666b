// Device side of reductions (engine/reduction.h): statistics across a batch's trajectories
// straight from the ensemble kernel's structure-of-arrays output, so only the statistics
// cross PCIe. The update formulas are engine/reduction_math.h's, the host's.
//
// ensolve_reduce_f32/_f64: one block of kReduceThreads per cell (save point i, quantity q:
// row i * width + q of the SoA output, `count` values). Each thread folds its strided share
// of the successful trajectories' finite values by Welford's update, then the block merges
// the threads' moments pairwise (Chan, Golub & LeVeque) in shared memory; the histogram
// counts in shared memory with integer atomics (exact, order-free).
//
// ensolve_count_retcodes: trajectories per return code into counts[8] (zeroed first).
#ifndef ENSOLVE_ENGINE_CUDA_DEVICE_REDUCE_KERNEL_CUH_
#define ENSOLVE_ENGINE_CUDA_DEVICE_REDUCE_KERNEL_CUH_

#include "engine/reduction_math.h"

namespace ensolve_reduce {

constexpr int kReduceThreads = 256;  // a power of two (the tree merge halves it)

template <class T>
__device__ __forceinline__ void ReduceCell(const T* __restrict__ soa,
                                           const unsigned char* __restrict__ retcodes,
                                           long long count, int width,
                                           const double* __restrict__ edges, int bins,
                                           int edges_stride, ensolve::reduce::Moments* moments,
                                           unsigned long long* nonfinite,
                                           unsigned long long* histogram) {
  using ensolve::reduce::Moments;
  __shared__ Moments part[kReduceThreads];
  __shared__ unsigned int bad;
  extern __shared__ unsigned int slots[];  // bins + 2 when bins > 0
  const int cell = blockIdx.x;
  const int tid = threadIdx.x;
  const int q = cell % width;
  const double* e = edges + static_cast<long long>(q) * edges_stride;
  if (bins > 0) {
    for (int j = tid; j < bins + 2; j += kReduceThreads) slots[j] = 0;
  }
  if (tid == 0) bad = 0;
  __syncthreads();
  Moments m = ensolve::reduce::EmptyMoments();
  unsigned int nf = 0;
  const T* row = soa + static_cast<long long>(cell) * count;
  for (long long k = tid; k < count; k += kReduceThreads) {
    if (retcodes[k] != 0) continue;
    const double x = static_cast<double>(row[k]);
    if (!isfinite(x)) {
      ++nf;
      continue;
    }
    ensolve::reduce::AddValue(m, x);
    if (bins > 0) atomicAdd(&slots[ensolve::reduce::HistogramSlot(e, bins, x)], 1u);
  }
  part[tid] = m;
  if (nf > 0) atomicAdd(&bad, nf);
  __syncthreads();
  for (int s = kReduceThreads / 2; s > 0; s >>= 1) {
    if (tid < s) ensolve::reduce::MergeMoments(part[tid], part[tid + s]);
    __syncthreads();
  }
  if (tid == 0) {
    moments[cell] = part[0];
    nonfinite[cell] = bad;
  }
  if (bins > 0) {
    unsigned long long* h = histogram + static_cast<long long>(cell) * (bins + 2);
    for (int j = tid; j < bins + 2; j += kReduceThreads) h[j] = slots[j];
  }
}

}  // namespace ensolve_reduce

extern "C" __global__ void __launch_bounds__(ensolve_reduce::kReduceThreads)
    ensolve_reduce_f32(const float* __restrict__ soa, const unsigned char* __restrict__ retcodes,
                       long long count, int width, const double* __restrict__ edges, int bins,
                       int edges_stride, ensolve::reduce::Moments* moments,
                       unsigned long long* nonfinite, unsigned long long* histogram) {
  ensolve_reduce::ReduceCell<float>(soa, retcodes, count, width, edges, bins, edges_stride, moments,
                                    nonfinite, histogram);
}

extern "C" __global__ void __launch_bounds__(ensolve_reduce::kReduceThreads)
    ensolve_reduce_f64(const double* __restrict__ soa, const unsigned char* __restrict__ retcodes,
                       long long count, int width, const double* __restrict__ edges, int bins,
                       int edges_stride, ensolve::reduce::Moments* moments,
                       unsigned long long* nonfinite, unsigned long long* histogram) {
  ensolve_reduce::ReduceCell<double>(soa, retcodes, count, width, edges, bins, edges_stride,
                                     moments, nonfinite, histogram);
}

extern "C" __global__ void __launch_bounds__(ensolve_reduce::kReduceThreads)
    ensolve_count_retcodes(const unsigned char* __restrict__ retcodes, long long count,
                           unsigned long long* counts) {
  __shared__ unsigned int local[8];
  if (threadIdx.x < 8) local[threadIdx.x] = 0;
  __syncthreads();
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long k = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; k < count;
       k += stride) {
    const unsigned int c = retcodes[k];
    if (c < 8) atomicAdd(&local[c], 1u);
  }
  __syncthreads();
  if (threadIdx.x < 8 && local[threadIdx.x] > 0) {
    atomicAdd(&counts[threadIdx.x], static_cast<unsigned long long>(local[threadIdx.x]));
  }
}

#endif  // ENSOLVE_ENGINE_CUDA_DEVICE_REDUCE_KERNEL_CUH_
