// EnsembleSolverService: the ensolve.v1.EnsembleSolver gRPC service on the callback API.
//
// Solve runs as a SolveStream reactor (solve_stream.h), or as a JobWatchStream (job_watch.h)
// when its request_id names a kept detached job. CompileModel answers a cached model on the
// calling thread and compiles any other on the CompilePool; GetServerInfo is answered on
// the calling thread and never waits on a compile. SubmitJob answers once the job is
// admitted (detached_jobs.h); WatchJob is a JobWatchStream; CancelJob and ListJobs answer
// on the calling thread.
//
// Thread-safety: all methods are safe to call concurrently (gRPC does).
#ifndef ENSOLVE_SERVER_SERVICE_H_
#define ENSOLVE_SERVER_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ensolve/v1/solver.grpc.pb.h"
#include "server/compile_pool.h"
#include "server/config.h"
#include "server/detached_jobs.h"
#include "server/memory_budget.h"
#include "server/metrics.h"
#include "server/model_cache.h"
#include "server/scheduler.h"
#include "server/stream_watchdog.h"
#include "server/tenant.h"
#include "server/tenant_limits.h"

namespace ensolve::server {

// What every handler shares. The pointed-to objects outlive the service; the budgets
// (memory, tenant limits, compile pool, watchdog) are built from `config` and owned here.
class ServiceContext {
 public:
  ServiceContext(ServerConfig config, ModelCache* models, BatchScheduler* scheduler,
                 Metrics* metrics, std::unique_ptr<TenantResolver> tenants);

  const ServerConfig& config() const { return config_; }
  ModelCache& models() { return *models_; }
  BatchScheduler& scheduler() { return *scheduler_; }
  Metrics& metrics() { return *metrics_; }
  TenantResolver& tenants() { return *tenants_; }
  MemoryBudget& memory() { return memory_; }
  TenantLimits& tenant_limits() { return tenant_limits_; }
  CompilePool& compile_pool() { return compile_pool_; }
  StreamWatchdog& watchdog() { return watchdog_; }
  DetachedJobs& detached_jobs() { return detached_jobs_; }

  // Draining: new Solve calls are refused with UNAVAILABLE; admitted ones continue.
  void StartDraining();
  bool draining() const;

  // Admitted Solve streams (from admission until the call is done). TryStartStream() is
  // false once draining has started, so WaitForNoStreams() never misses an admitted job.
  bool TryStartStream();
  void StreamEnded();
  int64_t active_streams() const;
  // Waits until no stream is active or `deadline` passes; true if none is active.
  bool WaitForNoStreams(absl::Time deadline);

  // A job id: 32 hex digits of 128 random bits, unique and unguessable.
  std::string NextJobId();

 private:
  const ServerConfig config_;
  ModelCache* const models_;
  BatchScheduler* const scheduler_;
  Metrics* const metrics_;
  const std::unique_ptr<TenantResolver> tenants_;
  MemoryBudget memory_;
  TenantLimits tenant_limits_;
  CompilePool compile_pool_;
  StreamWatchdog watchdog_;
  DetachedJobs detached_jobs_;
  mutable absl::Mutex mu_;
  int64_t active_streams_ ABSL_GUARDED_BY(mu_) = 0;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

class EnsembleSolverService final : public v1::EnsembleSolver::CallbackService {
 public:
  explicit EnsembleSolverService(ServiceContext* context) : ctx_(context) {}

  grpc::ServerWriteReactor<v1::SolveResponse>* Solve(grpc::CallbackServerContext* call,
                                                     const v1::SolveRequest* request) override;
  grpc::ServerUnaryReactor* CompileModel(grpc::CallbackServerContext* call,
                                         const v1::CompileModelRequest* request,
                                         v1::CompileModelResponse* response) override;
  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* call,
                                          const v1::GetServerInfoRequest* request,
                                          v1::ServerInfo* response) override;
  // Detached jobs (detached_jobs.h, job_watch.h).
  grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext* call,
                                      const v1::SolveRequest* request,
                                      v1::SubmitJobResponse* response) override;
  grpc::ServerWriteReactor<v1::SolveResponse>* WatchJob(
      grpc::CallbackServerContext* call, const v1::WatchJobRequest* request) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* call,
                                      const v1::CancelJobRequest* request,
                                      v1::JobInfo* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* call,
                                     const v1::ListJobsRequest* request,
                                     v1::ListJobsResponse* response) override;

 private:
  ServiceContext* const ctx_;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_SERVICE_H_
