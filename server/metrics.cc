#include "server/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"
#include "server/process_metrics.h"
#include "server/version.h"

namespace ensolve::server {
namespace {

// 1 ms .. ~65 s, doubling.
prometheus::Histogram::BucketBoundaries SecondsBuckets() {
  prometheus::Histogram::BucketBoundaries b;
  for (double v = 0.001; v < 70; v *= 2) b.push_back(v);
  return b;
}

// 0.5 ms .. ~35 min, doubling: a Solve call may stream for a long time.
prometheus::Histogram::BucketBoundaries RequestBuckets() {
  prometheus::Histogram::BucketBoundaries b;
  for (double v = 0.0005; v < 2100; v *= 2) b.push_back(v);
  return b;
}

#ifndef ENSOLVE_REVISION
#define ENSOLVE_REVISION "unknown"
#endif
#ifndef ENSOLVE_CUDA_TOOLKIT
#define ENSOLVE_CUDA_TOOLKIT "none"
#endif

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      process_(std::make_shared<ProcessCollector>()) {
  auto& r = *registry_;
  prometheus::BuildGauge()
      .Name("ensolve_build_info")
      .Help("Always 1: the version, source revision and CUDA toolkit this ensolved was built from")
      .Register(r)
      .Add({{"version", kVersion}, {"revision", ENSOLVE_REVISION}, {"cuda", ENSOLVE_CUDA_TOOLKIT}})
      .Set(1);
  requests_ = &prometheus::BuildCounter()
                   .Name("ensolve_requests_total")
                   .Help("Finished RPCs by method and gRPC status code")
                   .Register(r);
  undecodable_ = &prometheus::BuildCounter()
                      .Name("ensolve_undecodable_requests_total")
                      .Help(
                          "Requests whose bytes did not parse as their method's message, "
                          "answered INVALID_ARGUMENT, by method")
                      .Register(r);
  request_duration_ = &prometheus::BuildHistogram()
                           .Name("ensolve_request_duration_seconds")
                           .Help("RPC latency from its start to its status, by method and code")
                           .Register(r);
  auto& by_retcode = prometheus::BuildCounter()
                         .Name("ensolve_trajectories_total")
                         .Help("Trajectories solved, by return code")
                         .Register(r);
  for (int i = 0; i < kNumRetCodes; ++i) {
    retcodes_[i] = &by_retcode.Add({{"retcode", RetCodeName(static_cast<RetCode>(i))}});
  }
  trajectories_ = &prometheus::BuildCounter()
                       .Name("ensolve_trajectories_solved_total")
                       .Help("Trajectories solved, by device")
                       .Register(r);
  batches_ = &prometheus::BuildCounter()
                  .Name("ensolve_batches_total")
                  .Help("Batches run on a device, by outcome (completed, cancelled, failed)")
                  .Register(r);
  busy_ = &prometheus::BuildCounter()
               .Name("ensolve_device_busy_seconds_total")
               .Help("Seconds each device spent solving batches")
               .Register(r);
  tenant_steps_ = &prometheus::BuildCounter()
                       .Name("ensolve_tenant_steps_total")
                       .Help(
                           "Integration steps (accepted and rejected) run for each tenant: "
                           "the work the fair share is kept in")
                       .Register(r);
  tenant_seconds_ = &prometheus::BuildCounter()
                         .Name("ensolve_tenant_device_seconds_total")
                         .Help("Device seconds spent on each tenant's batches")
                         .Register(r);
  prepares_ = &prometheus::BuildCounter()
                   .Name("ensolve_model_prepares_total")
                   .Help("Models prepared (compiled) for a device's backend")
                   .Register(r);
  prepare_seconds_ = &prometheus::BuildCounter()
                          .Name("ensolve_model_prepare_seconds_total")
                          .Help("Seconds spent preparing (compiling) models for a device")
                          .Register(r);
  batch_duration_ = &prometheus::BuildHistogram()
                         .Name("ensolve_batch_duration_seconds")
                         .Help("Device time per batch")
                         .Register(r);
  jobs_active_ = &prometheus::BuildGauge()
                      .Name("ensolve_jobs_active")
                      .Help("Admitted Solve jobs not yet finished")
                      .Register(r)
                      .Add({});
  queue_depth_ = &prometheus::BuildGauge()
                      .Name("ensolve_queue_depth_batches")
                      .Help("Batches waiting for a device")
                      .Register(r)
                      .Add({});
  batches_dropped_ = &prometheus::BuildCounter()
                          .Name("ensolve_batches_dropped_total")
                          .Help("Queued batches dropped without running (cancel, deadline, error)")
                          .Register(r)
                          .Add({});
  batch_retries_ = &prometheus::BuildCounter()
                        .Name("ensolve_batch_retries_total")
                        .Help("Batches that failed on a device and were run again on another")
                        .Register(r)
                        .Add({});
  in_service_ = &prometheus::BuildGauge()
                     .Name("ensolve_device_in_service")
                     .Help("1 while the device takes batches; 0 once it failed too many in a row")
                     .Register(r);
  queue_wait_ = &prometheus::BuildHistogram()
                     .Name("ensolve_batch_queue_wait_seconds")
                     .Help("Time from a job's admission to the dispatch of each of its batches")
                     .Register(r)
                     .Add({}, SecondsBuckets());
  model_compiles_ = &prometheus::BuildCounter()
                         .Name("ensolve_model_compiles_total")
                         .Help("Model texts parsed and checked (model cache misses)")
                         .Register(r)
                         .Add({});
  model_cache_hits_ = &prometheus::BuildCounter()
                           .Name("ensolve_model_cache_hits_total")
                           .Help("Model texts or ids found in the model cache")
                           .Register(r)
                           .Add({});
  stream_bytes_ = &prometheus::BuildCounter()
                       .Name("ensolve_stream_bytes_total")
                       .Help("States bytes written to Solve streams")
                       .Register(r)
                       .Add({});
}

Metrics::~Metrics() {
  if (exposer_ == nullptr) return;
  // civetweb's listener thread polls its sockets with a 2 s timeout and checks the stop
  // flag only between polls, so stopping it can take 2 s. Connecting to the port wakes the
  // poll: keep poking it until the exposer is gone.
  std::atomic<bool> stopped{false};
  const int port = port_;
  std::thread poker([&stopped, port] {
    while (!stopped.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0) continue;
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      ::close(fd);
    }
  });
  exposer_.reset();
  stopped = true;
  poker.join();
}

absl::Status Metrics::StartHttp(const std::string& host, int port) {
  if (port < 0) return absl::OkStatus();
  const std::string address = absl::StrCat(host, ":", port);
  try {
    // civetweb: enough threads that a few slow or half-open connections leave others
    // free, and a short read/write timeout so each gives its thread back within 2 s.
    exposer_ = std::make_unique<prometheus::Exposer>(std::vector<std::string>{
        "listening_ports", address, "num_threads", "8", "request_timeout_ms", "2000"});
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", address, ": ", e.what()));
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(process_);
  const std::vector<int> ports = exposer_->GetListeningPorts();
  port_ = ports.empty() ? port : ports.front();
  return absl::OkStatus();
}

void Metrics::AddCollectable(const std::shared_ptr<prometheus::Collectable>& c) {
  if (exposer_ != nullptr) exposer_->RegisterCollectable(c);
}

void Metrics::RemoveCollectable(const std::shared_ptr<prometheus::Collectable>& c) {
  if (exposer_ != nullptr) exposer_->RemoveCollectable(c);
}

void Metrics::RecordRequest(const std::string& method, const std::string& code, double seconds) {
  requests_->Add({{"method", method}, {"code", code}}).Increment();
  request_duration_->Add({{"method", method}, {"code", code}}, RequestBuckets()).Observe(seconds);
}

void Metrics::CountUndecodable(const std::string& method) {
  undecodable_->Add({{"method", method}}).Increment();
}

void Metrics::CountRetCodes(const RetCode* codes, int64_t count) {
  int64_t n[kNumRetCodes] = {};
  for (int64_t i = 0; i < count; ++i) {
    const int c = static_cast<int>(codes[i]);
    if (c >= 0 && c < kNumRetCodes) ++n[c];
  }
  for (int i = 0; i < kNumRetCodes; ++i) {
    if (n[i] > 0) retcodes_[i]->Increment(static_cast<double>(n[i]));
  }
}

void Metrics::AddTenantWork(const std::string& tenant, double steps, double device_seconds) {
  tenant_steps_->Add({{"tenant", tenant}}).Increment(steps);
  tenant_seconds_->Add({{"tenant", tenant}}).Increment(device_seconds);
}

void Metrics::CountRetCodes(const int64_t* counts, int num_codes) {
  for (int i = 0; i < num_codes && i < kNumRetCodes; ++i) {
    if (counts[i] > 0) retcodes_[i]->Increment(static_cast<double>(counts[i]));
  }
}

DeviceMetrics Metrics::ForDevice(const std::string& device) {
  DeviceMetrics m;
  m.trajectories_solved = &trajectories_->Add({{"device", device}});
  m.batches_completed = &batches_->Add({{"device", device}, {"outcome", "completed"}});
  m.batches_cancelled = &batches_->Add({{"device", device}, {"outcome", "cancelled"}});
  m.batches_failed = &batches_->Add({{"device", device}, {"outcome", "failed"}});
  m.busy_seconds = &busy_->Add({{"device", device}});
  m.prepares = &prepares_->Add({{"device", device}});
  m.prepare_seconds = &prepare_seconds_->Add({{"device", device}});
  m.batch_duration = &batch_duration_->Add({{"device", device}}, SecondsBuckets());
  m.in_service = &in_service_->Add({{"device", device}});
  m.in_service->Set(1);
  return m;
}

}  // namespace ensolve::server
