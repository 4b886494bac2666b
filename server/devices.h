// The devices ensolved solves on: one Backend each, chosen by --devices.
#ifndef ENSOLVE_SERVER_DEVICES_H_
#define ENSOLVE_SERVER_DEVICES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backend.h"

namespace ensolve::server {

struct Device {
  std::unique_ptr<Backend> backend;
  std::string kind;  // "cpu" or "cuda"
  int threads = 0;   // CPU threads (CPU devices)
  // What the hardware is: "NVIDIA H200" or the CPU's model name; its memory (the GPU's, or
  // the host's for the CPU); the compute capability ("9.0") of a GPU.
  std::string model;
  int64_t memory_bytes = 0;
  std::string compute_capability;
};

// "auto": every CUDA GPU (one device each), else the CPU. "cpu": the CPU (one device using
// `threads` threads, <= 0 for all); "cpu:N": N such devices (tests of several devices). "gpu":
// every CUDA GPU; FAILED_PRECONDITION naming the reason (no driver, no device, no NVRTC) when there
// is none. Anything else is INVALID_ARGUMENT.
absl::StatusOr<std::vector<Device>> CreateDevices(const std::string& devices, int threads);

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_DEVICES_H_
