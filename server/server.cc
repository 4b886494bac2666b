#include "server/server.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/budget_metrics.h"
#include "server/devices.h"
#include "server/fault_injection.h"
#include "server/log.h"
#include "server/spill_file.h"
#include "server/tls.h"
#include "server/undecodable_requests.h"

namespace ensolve::server {
namespace {

constexpr char kServiceName[] = "ensolve.v1.EnsembleSolver";

// A duration as a gRPC channel argument: milliseconds, INT_MAX for "infinite".
int ClampedMillis(absl::Duration d) {
  if (d >= absl::Milliseconds(std::numeric_limits<int>::max())) {
    return std::numeric_limits<int>::max();
  }
  return static_cast<int>(absl::ToInt64Milliseconds(d));
}

}  // namespace

absl::StatusOr<std::unique_ptr<EnsolveServer>> EnsolveServer::Start(ServerConfig config) {
  std::string budget_from = "--memory_budget";
  if (config.memory_budget <= 0) config.memory_budget = AutoMemoryBudget(&budget_from);
  std::unique_ptr<EnsolveServer> s(new EnsolveServer(std::move(config)));
  const ServerConfig& c = s->config_;
  absl::StatusOr<std::unique_ptr<TenantResolver>> tenants = TenantResolver::Create(c.tokens_file);
  if (!tenants.ok()) return tenants.status();

  absl::StatusOr<std::vector<Device>> devices = CreateDevices(c.devices, c.threads);
  if (!devices.ok()) return devices.status();
  if (const char* faults = std::getenv("ENSOLVE_INJECT_FAULTS"); faults != nullptr) {
    absl::StatusOr<std::vector<InjectedFault>> f = ParseInjectedFaults(faults);
    if (!f.ok()) return f.status();
    InjectFaults(*f, &*devices);
    Log(LogLevel::kWarning, "faults_injected").Kv("spec", faults);
  }

  s->metrics_ = std::make_unique<Metrics>();
  if (absl::Status st = s->metrics_->StartHttp(c.metrics_host, c.metrics_port); !st.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for /metrics on ", c.metrics_host, ":", c.metrics_port,
        ": the port is taken or the host is not this machine's (--metrics_port, --metrics_host; "
        "-1 turns metrics off) [",
        st.message(), "]"));
  }
  s->models_ = std::make_unique<ModelCache>(c.model_cache_size, c.model_cache_bytes, c.model_limits,
                                            s->metrics_.get());
  BatchScheduler::Options so;
  so.stream_buffer_batches = c.stream_buffer_batches;
  so.max_queued_trajectories = c.max_queued_trajectories;
  so.batch_slice = c.batch_slice;
  s->scheduler_ = std::make_unique<BatchScheduler>(std::move(*devices), so, s->metrics_.get());
  s->context_ = std::make_unique<ServiceContext>(c, s->models_.get(), s->scheduler_.get(),
                                                 s->metrics_.get(), *std::move(tenants));
  s->budget_metrics_ = std::make_shared<BudgetCollector>(s->context_.get());
  s->metrics_->AddCollectable(s->budget_metrics_);
  s->service_ = std::make_unique<EnsembleSolverService>(s->context_.get());
  if (!c.job_spill_dir.empty()) {
    // Checked before serving; a previous run's files are removed (jobs do not survive it).
    absl::StatusOr<std::shared_ptr<SpillFolder>> spill =
        SpillFolder::Open(c.job_spill_dir, c.job_spill_total_bytes);
    if (!spill.ok()) return spill.status();
    s->context_->detached_jobs().SetSpillFolder(*std::move(spill));
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // One server per port: without this, gRPC sets SO_REUSEPORT and a second ensolved on a
  // taken port would silently share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = ListenerCredentials(c);
  if (!credentials.ok()) return credentials.status();
  builder.AddListeningPort(c.address, *credentials, &s->port_);
  builder.RegisterService(s->service_.get());
  {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(NewUndecodableRequestInterceptorFactory(s->metrics_.get()));
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  if (c.max_connection_age > absl::ZeroDuration()) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, ClampedMillis(c.max_connection_age));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               ClampedMillis(c.max_connection_age_grace));
  }
  // Clients may ping every 10 s (ShardedClient does every 30 s to notice a lost server)
  // without being told off for it while a long batch sends nothing.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<int64_t>(c.max_request_bytes, std::numeric_limits<int>::max())));
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    s->server_.reset();
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", c.address,
        ": the port is taken (another ensolved?) or the host is not this machine's (--address)"));
  }
  {
    // Detached jobs call this server's own Solve (detached_jobs.h); results up to a chunk
    // and its inputs, whatever the client-facing limits.
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    s->context_->detached_jobs().SetChannel(s->server_->InProcessChannel(args));
  }
  grpc::HealthCheckServiceInterface* health = s->server_->GetHealthCheckService();
  health->SetServingStatus(kServiceName, true);
  health->SetServingStatus(true);

  std::string device_names;
  for (const auto& d : s->scheduler_->device_names()) {
    absl::StrAppend(&device_names, device_names.empty() ? "" : ",", d);
  }
  Log(LogLevel::kInfo, "listening")
      .Kv("address", c.address)
      .Kv("port", s->port_)
      .Kv("metrics_host", c.metrics_port >= 0 ? c.metrics_host : "off")
      .Kv("metrics_port", s->metrics_->port())
      .Kv("devices", device_names)
      .Kv("batch_size", c.default_batch_size)
      .Kv("memory_budget", c.memory_budget)
      .Kv("memory_budget_from", budget_from)
      .Kv("max_request_memory", c.max_request_memory)
      .Kv("job_spill_dir", c.job_spill_dir.empty() ? "off" : c.job_spill_dir)
      .Kv("authentication", s->context_->tenants().authenticates() ? "bearer tokens" : "none")
      .Kv("tls", TlsMode(c));
  const std::string host = c.address.substr(0, c.address.rfind(':'));
  if (!c.authenticates() && host != "127.0.0.1" && host != "localhost" && host != "[::1]") {
    Log(LogLevel::kWarning, "unauthenticated_listener")
        .Kv("address", c.address)
        .Kv("message",
            "anyone who reaches this address can solve on this server: give --tokens_file "
            "or --tls_client_ca, or listen on loopback (the default without them)");
  } else if (!c.authenticates()) {
    Log(LogLevel::kInfo, "loopback_only")
        .Kv("message",
            "no --tokens_file or --tls_client_ca: listening on loopback only; pass "
            "--address=0.0.0.0:50051 to listen on every interface");
  }
  return s;
}

EnsolveServer::~EnsolveServer() {
  Shutdown();
  if (budget_metrics_ != nullptr) metrics_->RemoveCollectable(budget_metrics_);
}

std::string EnsolveServer::target() const {
  const size_t colon = config_.address.rfind(':');
  std::string host = config_.address.substr(0, colon == std::string::npos ? 0 : colon);
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") host = "127.0.0.1";
  return absl::StrCat(host, ":", port_);
}

absl::Status EnsolveServer::ReloadTokens() {
  absl::Status s = context_->tenants().Reload();
  Log(s.ok() ? LogLevel::kInfo : LogLevel::kError, "tokens_reloaded")
      .Kv("ok", s.ok())
      .Kv("tokens", context_->tenants().num_tokens())
      .Kv("error", s.ok() ? "" : std::string(s.message()));
  return s;
}

bool EnsolveServer::Drain(absl::Duration deadline) {
  if (shut_down_.load()) return true;
  const absl::Time until = absl::Now() + deadline;
  server_->GetHealthCheckService()->SetServingStatus(false);
  context_->StartDraining();
  const int64_t active = context_->active_streams();
  Log(LogLevel::kInfo, "drain_started")
      .Kv("active_jobs", active)
      .Kv("deadline_s", absl::ToDoubleSeconds(deadline));
  const bool all = context_->WaitForNoStreams(until);
  Log(all ? LogLevel::kInfo : LogLevel::kWarning, "drain_finished")
      .Kv("all_jobs_finished", all)
      .Kv("unfinished_jobs", context_->active_streams());
  Shutdown();
  return all;
}

void EnsolveServer::Shutdown() {
  if (shut_down_.exchange(true)) return;
  if (server_ == nullptr) {  // Start() failed part way
    if (scheduler_ != nullptr) scheduler_->Stop();
    if (context_ != nullptr) context_->compile_pool().Stop();
    return;
  }
  server_->GetHealthCheckService()->SetServingStatus(false);
  context_->StartDraining();
  // Fail what is left with UNAVAILABLE (so its clients learn why), give those statuses a
  // moment to go out, then cancel whatever is still open and stop.
  scheduler_->Stop();
  // Waiting compiles are answered UNAVAILABLE; running ones finish (and find the
  // scheduler stopped). Every reactor must be finished before the server can stop.
  context_->compile_pool().Stop();
  // Detached jobs' calls to this server end while it still serves them (a paused one would
  // otherwise hold its write until the shutdown deadline).
  context_->detached_jobs().Stop();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
  context_->watchdog().Stop();
  Log(LogLevel::kInfo, "stopped");
}

}  // namespace ensolve::server
