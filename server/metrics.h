// Prometheus metrics of ensolved, served over HTTP at /metrics (prometheus-cpp).
//
// Names (all prefixed ensolve_):
//   build_info{version,revision,cuda}      1; what this binary is (cuda: the toolkit it was
//                                          built with, "none" for a CPU-only build)
//   requests_total{method,code}            finished RPCs by gRPC method and status code
//   request_duration_seconds{method,code}  RPC latency, start to status (histogram)
//   trajectories_total{retcode}            trajectories solved, by return code
//   jobs_active                            admitted Solve jobs not yet finished
//   trajectories_solved_total{device}      trajectories whose results were produced
//   batches_total{device,outcome}          batches run on a device: completed|cancelled|failed
//   batches_dropped_total                  queued batches dropped unrun (cancel, deadline, error)
//   batch_retries_total                    failed batches run again on another device
//   device_in_service{device}              1, or 0 once the device failed too often
//   batch_duration_seconds{device}         device time per batch (histogram)
//   batch_queue_wait_seconds               job admission to batch dispatch (histogram)
//   queue_depth_batches                    batches waiting for a device
//   model_compiles_total                   model texts parsed (cache misses)
//   model_cache_hits_total                 model texts or ids found in the cache
//   model_prepares_total{device}           models prepared for a device's backend
//   model_prepare_seconds_total{device}    time spent preparing them (NVRTC compiles on a GPU)
//   device_busy_seconds_total{device}      time each device spent solving
//   tenant_steps_total{tenant}             integration steps run for each tenant (fair_queue.h)
//   tenant_device_seconds_total{tenant}    device time spent on each tenant's batches
//   stream_bytes_total                     states bytes written to Solve streams
// and, computed at each scrape, the process_* and GPU series of process_metrics.h.
//
// Thread-safety: every method is safe to call concurrently.
#ifndef ENSOLVE_SERVER_METRICS_H_
#define ENSOLVE_SERVER_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "engine/batch.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}

namespace ensolve::server {

// The series of one device, created once per device worker.
struct DeviceMetrics {
  prometheus::Counter* trajectories_solved;
  prometheus::Counter* batches_completed;
  prometheus::Counter* batches_cancelled;
  prometheus::Counter* batches_failed;
  prometheus::Counter* busy_seconds;
  prometheus::Counter* prepares;
  prometheus::Counter* prepare_seconds;
  prometheus::Histogram* batch_duration;
  prometheus::Gauge* in_service;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // Serves /metrics on host:port (port 0 picks a free port; see port()).
  absl::Status StartHttp(const std::string& host, int port);
  // The bound HTTP port, or -1 when not serving.
  int port() const { return port_; }

  // A finished RPC: its method, status code name and latency in seconds.
  void RecordRequest(const std::string& method, const std::string& code, double seconds);
  // A request of `method` whose bytes did not parse as its message (undecodable_requests.h).
  void CountUndecodable(const std::string& method);
  // The return codes of a finished batch's trajectories.
  void CountRetCodes(const RetCode* codes, int64_t count);
  // The same from per-code counts (counts[i]: trajectories with RetCode i).
  void CountRetCodes(const int64_t* counts, int num_codes);
  DeviceMetrics ForDevice(const std::string& device);
  // A task (batch or slice) of `tenant` ran `steps` steps in `device_seconds`. Tenants are
  // named by the operator's tokens file, so the series are bounded.
  void AddTenantWork(const std::string& tenant, double steps, double device_seconds);

  prometheus::Registry& registry() { return *registry_; }
  // Series computed at scrape time by `c` (kept only weakly): added to /metrics if it is
  // served; Remove waits for a scrape that is reading it.
  void AddCollectable(const std::shared_ptr<prometheus::Collectable>& c);
  void RemoveCollectable(const std::shared_ptr<prometheus::Collectable>& c);

  prometheus::Gauge& jobs_active() { return *jobs_active_; }
  prometheus::Gauge& queue_depth() { return *queue_depth_; }
  prometheus::Counter& batches_dropped() { return *batches_dropped_; }
  prometheus::Counter& batch_retries() { return *batch_retries_; }
  prometheus::Histogram& queue_wait() { return *queue_wait_; }
  prometheus::Counter& model_compiles() { return *model_compiles_; }
  prometheus::Counter& model_cache_hits() { return *model_cache_hits_; }
  prometheus::Counter& stream_bytes() { return *stream_bytes_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = -1;

  std::shared_ptr<prometheus::Collectable> process_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* request_duration_;
  prometheus::Family<prometheus::Counter>* undecodable_;
  prometheus::Counter* retcodes_[kNumRetCodes];
  prometheus::Family<prometheus::Counter>* trajectories_;
  prometheus::Family<prometheus::Counter>* batches_;
  prometheus::Family<prometheus::Counter>* busy_;
  prometheus::Family<prometheus::Counter>* tenant_steps_;
  prometheus::Family<prometheus::Counter>* tenant_seconds_;
  prometheus::Family<prometheus::Counter>* prepares_;
  prometheus::Family<prometheus::Counter>* prepare_seconds_;
  prometheus::Family<prometheus::Histogram>* batch_duration_;
  prometheus::Gauge* jobs_active_;
  prometheus::Gauge* queue_depth_;
  prometheus::Counter* batches_dropped_;
  prometheus::Counter* batch_retries_;
  prometheus::Family<prometheus::Gauge>* in_service_;
  prometheus::Histogram* queue_wait_;
  prometheus::Counter* model_compiles_;
  prometheus::Counter* model_cache_hits_;
  prometheus::Counter* stream_bytes_;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_METRICS_H_
