// EnsolveServer: ensolved as an object. Start() brings up the devices, the scheduler, the
// metrics HTTP listener and the gRPC server (EnsembleSolver, grpc.health.v1 health,
// server reflection); Drain() is what SIGTERM does. Tests run it in-process on port 0.
//
// Thread-safety: port accessors are safe from any thread; Drain() and Shutdown() may be
// called from any thread, once each (later calls do nothing).
#ifndef ENSOLVE_SERVER_SERVER_H_
#define ENSOLVE_SERVER_SERVER_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "server/config.h"
#include "server/metrics.h"
#include "server/model_cache.h"
#include "server/scheduler.h"
#include "server/service.h"

namespace ensolve::server {

class EnsolveServer {
 public:
  // Fails with the reason when the devices, the gRPC address or the metrics port cannot be
  // set up (e.g. FAILED_PRECONDITION for --devices=gpu without a GPU).
  static absl::StatusOr<std::unique_ptr<EnsolveServer>> Start(ServerConfig config);
  // Shuts down at once if still serving.
  ~EnsolveServer();

  // The bound gRPC port and "host:port" to connect to (a wildcard host becomes 127.0.0.1).
  int port() const { return port_; }
  std::string target() const;
  // The bound /metrics port, or -1.
  int metrics_port() const { return metrics_->port(); }

  // Graceful shutdown: health turns NOT_SERVING, new Solve calls get UNAVAILABLE, admitted
  // jobs run to completion until `deadline` passes, then anything left is failed with
  // UNAVAILABLE and the server stops. True when every admitted job finished in time.
  bool Drain(absl::Duration deadline);
  // Immediate shutdown: unfinished jobs fail with UNAVAILABLE.
  void Shutdown();
  // Re-reads --tokens_file (SIGHUP); on error the old tokens stay. Logged either way.
  absl::Status ReloadTokens();

  Metrics& metrics() { return *metrics_; }
  BatchScheduler& scheduler() { return *scheduler_; }
  ServiceContext& context() { return *context_; }
  const ServerConfig& config() const { return config_; }

 private:
  explicit EnsolveServer(ServerConfig config) : config_(std::move(config)) {}

  const ServerConfig config_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ModelCache> models_;
  std::unique_ptr<BatchScheduler> scheduler_;
  std::unique_ptr<ServiceContext> context_;
  std::shared_ptr<prometheus::Collectable> budget_metrics_;  // reads context_
  std::unique_ptr<EnsembleSolverService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<bool> shut_down_{false};
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_SERVER_H_
