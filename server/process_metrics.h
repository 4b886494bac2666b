// Series computed when /metrics is scraped rather than counted as work happens:
//   process_cpu_seconds_total            user + system CPU time of ensolved
//   process_resident_memory_bytes        resident set size
//   process_virtual_memory_bytes         virtual memory size
//   process_open_fds                     open file descriptors
//   process_max_fds                      the open-files limit
//   process_start_time_seconds           start time, seconds since the Unix epoch
//   process_threads                      threads
//   ensolve_gpu_memory_used_bytes{gpu,name,uuid}   per GPU, through NVML
//   ensolve_gpu_memory_total_bytes{gpu,name,uuid}
//   ensolve_gpu_utilization_ratio{gpu,name,uuid}   0..1, share of time a kernel ran
// The process_* names are the Prometheus client libraries' usual ones, read from /proc (Linux);
// the GPU series are absent where NVML is (server/internal/nvml.h).
//
// Thread-safety: Collect() may run on any thread, concurrently.
#ifndef ENSOLVE_SERVER_PROCESS_METRICS_H_
#define ENSOLVE_SERVER_PROCESS_METRICS_H_

#include <cstdint>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace ensolve::server {

// What /proc says about this process now; fields are -1 where it could not be read.
struct ProcessSample {
  double cpu_seconds = -1;
  double resident_bytes = -1;
  double virtual_bytes = -1;
  double open_fds = -1;
  double max_fds = -1;
  double start_time_seconds = -1;
  double threads = -1;
};
ProcessSample SampleProcess();

class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_PROCESS_METRICS_H_
