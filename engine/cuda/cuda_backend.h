// The CUDA backend: one Backend per GPU. Models are compiled to per-trajectory kernels with
// NVRTC for the device's own architecture (sm_XY) and cached per device; the context, the
// streams and the device memory stay warm between batches.
//
// The CUDA driver and NVRTC are loaded with dlopen, so every binary that links this
// library still starts on a machine without them: ListCudaDevices() and NewCudaBackend()
// then return UNAVAILABLE ("no CUDA driver (libcuda.so.1 not found)", "no CUDA device",
// "no NVRTC (...)") and the CPU backend serves.
//
// Thread-safety: as Backend (one thread at a time per backend; a device worker owns one).
// compile_stats(), last_timings() and device() may be called from any thread.
#ifndef ENSOLVE_ENGINE_CUDA_CUDA_BACKEND_H_
#define ENSOLVE_ENGINE_CUDA_CUDA_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backend.h"

namespace ensolve {

struct GpuDeviceInfo {
  int index = 0;  // the driver's ordinal, as given to NewCudaBackend
  std::string name;
  int64_t total_memory_bytes = 0;
  int compute_capability_major = 0;
  int compute_capability_minor = 0;
  int multiprocessors = 0;
  std::string pci_bus_id;  // "0000:17:00.0"
};

// Every CUDA device the driver sees. UNAVAILABLE without a driver; an empty list is never
// returned (no device is UNAVAILABLE "no CUDA device").
absl::StatusOr<std::vector<GpuDeviceInfo>> ListCudaDevices();

// Compilation counters of one backend (one device), for metrics.
struct CudaCompileStats {
  int64_t compiles = 0;        // NVRTC compilations this backend ran
  int64_t cubin_reuses = 0;    // modules loaded from a cubin compiled for another device
  int64_t cache_hits = 0;      // Prepare() calls answered from this device's module cache
  double compile_seconds = 0;  // total NVRTC time of `compiles`
  double load_seconds = 0;     // total cuModuleLoadData time
};

// Where the time of the last Solve() went (milliseconds, wall clock unless said).
struct CudaSolveTimings {
  int64_t count = 0;
  double upload_ms = 0;         // inputs onto the device: copies, or samples drawn there (events)
  double kernel_ms = 0;         // the ensemble kernel alone (CUDA events)
  double transpose_ms = 0;      // SoA -> row-major on the device (CUDA events)
  double download_ms = 0;       // device results into the BatchResult (CUDA events)
  double total_ms = 0;          // the whole Solve() call (wall)
  double host_sampling_ms = 0;  // sampled inputs drawn on the host (wall)
  int inputs_sampled_on_device = 0;  // of u0 and p
};

// The environment can turn the two speed-ups off (for measurements): ENSOLVE_CUDA_PINNED=0,
// ENSOLVE_CUDA_DEVICE_SAMPLING=0.
struct CudaBackendOptions {
  // Tests: fill every device output buffer with 0xFF bytes before each launch (NaN states,
  // invalid return codes, negative counters), so unwritten outputs show.
  bool poison_outputs = false;
  // Results (and host-side input staging) in pooled pinned host memory, copied at the
  // bus's full speed: a BatchResult's arrays then live in a block that returns to the pool
  // when the result is destroyed. Off: heap memory and pageable copies.
  bool pinned_host_memory = true;
  // Returned pinned blocks kept for reuse, at most.
  size_t max_cached_pinned_bytes = size_t{1} << 30;
  // Inputs from grid and uniform samplers (BatchInputs::u0_sampler, p_sampler) drawn on
  // the device, bitwise the host's values, instead of drawn on the host and copied over.
  bool device_sampling = true;
};

class CudaBackend : public Backend {
 public:
  virtual const GpuDeviceInfo& device() const = 0;
  virtual CudaCompileStats compile_stats() const = 0;
  virtual CudaSolveTimings last_timings() const = 0;
};

// A backend on CUDA device `device` (0-based ordinal): retains its primary context and
// creates its streams. UNAVAILABLE without a driver, a device or NVRTC; INVALID_ARGUMENT
// for an ordinal out of range.
absl::StatusOr<std::unique_ptr<CudaBackend>> NewCudaBackend(int device,
                                                            const CudaBackendOptions& options = {});

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_CUDA_CUDA_BACKEND_H_
