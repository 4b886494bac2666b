#include "server/service.h"

#include <openssl/rand.h>

#include <algorithm>
#include <new>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "engine/solve_options.h"
#include "server/job_watch.h"
#include "server/log.h"
#include "server/request_cost.h"
#include "server/solve_stream.h"
#include "server/status_adapter.h"
#include "server/version.h"

namespace ensolve::server {
namespace {

MemoryBudget::Limits MemoryLimits(const ServerConfig& c) {
  MemoryBudget::Limits l;
  l.server_bytes = c.memory_budget;
  l.request_bytes = c.max_request_memory;
  l.tenant_bytes = c.tenant_max_memory;
  return l;
}

TenantLimits::Limits TenantLimitsOf(const ServerConfig& c) {
  TenantLimits::Limits l;
  l.max_jobs = c.tenant_max_jobs;
  l.max_trajectories = c.tenant_max_trajectories;
  l.max_steps = c.tenant_max_steps;
  return l;
}

DetachedJobs::Options DetachedOptions(const ServerConfig& c) {
  DetachedJobs::Options o;
  o.ttl = c.job_ttl;
  o.job_bytes = c.job_kept_bytes;
  o.spill_bytes = c.job_spill_bytes;
  o.max_jobs_per_tenant = static_cast<int>(std::min<int64_t>(c.max_kept_jobs, 1 << 30));
  // A chunk's states are at most max_chunk_bytes; its counters and inputs come beside them.
  o.max_message_bytes = 2 * c.max_chunk_bytes + (int64_t{1} << 20);
  return o;
}

CompilePool::Options CompileOptions(const ServerConfig& c) {
  CompilePool::Options o;
  o.threads = c.compile_threads;
  o.max_queued = c.compile_queue;
  o.max_queued_per_tenant = c.tenant_compile_queue;
  return o;
}

}  // namespace

ServiceContext::ServiceContext(ServerConfig config, ModelCache* models, BatchScheduler* scheduler,
                               Metrics* metrics, std::unique_ptr<TenantResolver> tenants)
    : config_(std::move(config)),
      models_(models),
      scheduler_(scheduler),
      metrics_(metrics),
      tenants_(std::move(tenants)),
      memory_(MemoryLimits(config_)),
      tenant_limits_(TenantLimitsOf(config_)),
      compile_pool_(CompileOptions(config_)),
      detached_jobs_(DetachedOptions(config_), &memory_) {}

void ServiceContext::StartDraining() {
  absl::MutexLock lock(&mu_);
  draining_ = true;
}

bool ServiceContext::draining() const {
  absl::MutexLock lock(&mu_);
  return draining_;
}

bool ServiceContext::TryStartStream() {
  absl::MutexLock lock(&mu_);
  if (draining_) return false;
  ++active_streams_;
  metrics_->jobs_active().Set(static_cast<double>(active_streams_));
  return true;
}

void ServiceContext::StreamEnded() {
  absl::MutexLock lock(&mu_);
  --active_streams_;
  metrics_->jobs_active().Set(static_cast<double>(active_streams_));
}

int64_t ServiceContext::active_streams() const {
  absl::MutexLock lock(&mu_);
  return active_streams_;
}

bool ServiceContext::WaitForNoStreams(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_streams_ == 0; };
  return mu_.AwaitWithDeadline(absl::Condition(&none), deadline);
}

std::string ServiceContext::NextJobId() {
  // 128 bits from OpenSSL's CSPRNG: ids say nothing about other jobs and cannot be guessed.
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    absl::BitGen gen;  // OpenSSL failed to seed (never seen): still unpredictable enough
    for (unsigned char& b : bytes) b = absl::Uniform<unsigned char>(gen);
  }
  std::string id;
  for (unsigned char b : bytes) absl::StrAppendFormat(&id, "%02x", b);
  return id;
}

namespace {

// The call's status for `s`, counted in the request metrics of `method`.
grpc::Status Counted(ServiceContext* ctx, const char* method, absl::Time start,
                     const absl::Status& s) {
  const grpc::Status g = ToGrpcStatus(s, method);
  ctx->metrics().RecordRequest(method, GrpcCodeName(g.error_code()),
                               absl::ToDoubleSeconds(absl::Now() - start));
  return g;
}

}  // namespace

grpc::ServerWriteReactor<v1::SolveResponse>* EnsembleSolverService::Solve(
    grpc::CallbackServerContext* call, const v1::SolveRequest* request) {
  if (!request->request_id().empty() && !ctx_->detached_jobs().IsInternal(*call)) {
    // A retried request of a kept detached job attaches to it.
    absl::StatusOr<std::string> tenant = ctx_->tenants().ForCall(*call, kCapSolve, "Solve");
    if (tenant.ok()) {
      std::shared_ptr<DetachedJob> job =
          ctx_->detached_jobs().FindByRequestId(*tenant, request->request_id());
      if (job != nullptr) return new JobWatchStream(ctx_, "Solve", std::move(job), 0);
    }
  }
  return new SolveStream(ctx_, call, request);
}

grpc::ServerUnaryReactor* EnsembleSolverService::SubmitJob(grpc::CallbackServerContext* call,
                                                           const v1::SolveRequest* request,
                                                           v1::SubmitJobResponse* response) {
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  const absl::Time start = absl::Now();
  ServiceContext* ctx = ctx_;
  auto answer = [ctx, reactor, response, start](absl::StatusOr<v1::SolveAccepted> accepted) {
    if (accepted.ok()) *response->mutable_accepted() = *std::move(accepted);
    reactor->Finish(Counted(ctx, "SubmitJob", start, accepted.status()));
  };
  absl::StatusOr<std::string> tenant = ctx_->tenants().ForCall(*call, kCapDetached, "SubmitJob");
  if (!tenant.ok()) {
    answer(tenant.status());
    return reactor;
  }
  if (absl::Status s = ctx_->tenants().Require(*tenant, kCapSolve, "SubmitJob"); !s.ok()) {
    answer(s);  // the job is a Solve
    return reactor;
  }
  if (ctx_->draining()) {
    answer(absl::UnavailableError("the server is draining (shutting down); retry elsewhere"));
    return reactor;
  }
  const auto& md = call->client_metadata();
  auto auth = md.find("authorization");
  const std::string authorization =
      auth == md.end() ? "" : std::string(auth->second.data(), auth->second.size());
  ctx_->detached_jobs().Submit(*tenant, auth == md.end() ? nullptr : &authorization, *request,
                               std::move(answer));
  return reactor;
}

grpc::ServerWriteReactor<v1::SolveResponse>* EnsembleSolverService::WatchJob(
    grpc::CallbackServerContext* call, const v1::WatchJobRequest* request) {
  absl::StatusOr<std::string> tenant = ctx_->tenants().ForCall(*call, kCapDetached, "WatchJob");
  if (!tenant.ok()) return new JobWatchStream(ctx_, "WatchJob", tenant.status());
  if (request->from_offset() < 0) {
    return new JobWatchStream(ctx_, "WatchJob",
                              absl::InvalidArgumentError(absl::StrCat(
                                  "from_offset: must be >= 0, got ", request->from_offset())));
  }
  absl::StatusOr<std::shared_ptr<DetachedJob>> job =
      ctx_->detached_jobs().Find(*tenant, request->job_id());
  if (!job.ok()) return new JobWatchStream(ctx_, "WatchJob", job.status());
  if (absl::Status s = (*job)->Acknowledge(request->from_offset()); !s.ok()) {
    return new JobWatchStream(ctx_, "WatchJob", s);
  }
  return new JobWatchStream(ctx_, "WatchJob", *std::move(job), request->from_offset());
}

grpc::ServerUnaryReactor* EnsembleSolverService::CancelJob(grpc::CallbackServerContext* call,
                                                           const v1::CancelJobRequest* request,
                                                           v1::JobInfo* response) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> tenant = ctx_->tenants().ForCall(*call, kCapDetached, "CancelJob");
  absl::StatusOr<v1::JobInfo> info = tenant.ok()
                                         ? ctx_->detached_jobs().Cancel(*tenant, request->job_id())
                                         : absl::StatusOr<v1::JobInfo>(tenant.status());
  if (info.ok()) *response = *std::move(info);
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(Counted(ctx_, "CancelJob", start, info.status()));
  return reactor;
}

grpc::ServerUnaryReactor* EnsembleSolverService::ListJobs(grpc::CallbackServerContext* call,
                                                          const v1::ListJobsRequest*,
                                                          v1::ListJobsResponse* response) {
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> tenant = ctx_->tenants().ForCall(*call, kCapDetached, "ListJobs");
  if (tenant.ok()) {
    for (v1::JobInfo& j : ctx_->detached_jobs().List(*tenant)) *response->add_jobs() = std::move(j);
  }
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(Counted(ctx_, "ListJobs", start, tenant.status()));
  return reactor;
}

namespace {

// Fills `response` from `model` or turns its error into the call's status; logs and counts.
grpc::Status AnswerCompile(ServiceContext* ctx, grpc::CallbackServerContext* call,
                           const absl::StatusOr<std::shared_ptr<const Model>>& model, bool cached,
                           absl::Time start, v1::CompileModelResponse* response) {
  grpc::Status status;
  if (!model.ok()) {
    status = ToGrpcStatus(absl::Status(model.status().code(),
                                       absl::StrCat("model_source: ", model.status().message())),
                          "CompileModel");
  } else {
    const Model& m = **model;
    response->set_model_id(m.hash());
    for (const auto& n : m.state_names()) response->add_state_names(n);
    for (double v : m.state_defaults()) response->add_state_defaults(v);
    for (const auto& n : m.param_names()) response->add_param_names(n);
    for (double v : m.param_defaults()) response->add_param_defaults(v);
    for (const auto& n : m.output_names()) response->add_output_names(n);
    for (const auto& n : m.wiener_names()) response->add_wiener_processes(n);
    for (const ModelEvent& ev : m.events()) {
      v1::EventInfo* e = response->add_events();
      const bool at = ev.kind == ModelEvent::Kind::kTimes;
      e->set_kind(at ? "at" : "when");
      if (!at) e->set_direction(ev.direction > 0 ? "up" : ev.direction < 0 ? "down" : "both");
      for (double t : ev.times) e->add_times(t);
      for (const ModelEvent::Assignment& a : ev.assignments) {
        e->add_assigns(a.param ? m.param_names()[a.index] : m.state_names()[a.index]);
      }
      e->set_terminate(ev.terminate);
      e->set_line(ev.line);
    }
    response->set_cached(cached);
  }
  Log(LogLevel::kInfo, "compile_model")
      .Kv("peer", call->peer())
      .Kv("code", GrpcCodeName(status.error_code()))
      .Kv("model", model.ok() ? (*model)->hash() : "")
      .Kv("cached", cached)
      .Kv("seconds", absl::ToDoubleSeconds(absl::Now() - start));
  ctx->metrics().RecordRequest("CompileModel", GrpcCodeName(status.error_code()),
                               absl::ToDoubleSeconds(absl::Now() - start));
  return status;
}

}  // namespace

grpc::ServerUnaryReactor* EnsembleSolverService::CompileModel(
    grpc::CallbackServerContext* call, const v1::CompileModelRequest* request,
    v1::CompileModelResponse* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  absl::StatusOr<std::string> tenant = ctx_->tenants().ForCall(*call, kCapSolve, "CompileModel");
  if (!tenant.ok()) {
    reactor->Finish(Counted(ctx_, "CompileModel", start, tenant.status()));
    return reactor;
  }
  if (ctx_->models().Contains(*tenant, request->model_source())) {
    bool cached = false;
    auto model = ctx_->models().GetOrParse(*tenant, request->model_source(), &cached);
    reactor->Finish(AnswerCompile(ctx_, call, model, cached, start, response));
    return reactor;
  }
  // Compiling takes up to seconds: on the pool, with its memory reserved first.
  const int64_t source_bytes = static_cast<int64_t>(request->model_source().size());
  std::shared_ptr<MemoryAccount> memory = ctx_->memory().Open(*tenant);
  if (absl::Status s = memory->Reserve(CompileBytesEstimate(source_bytes), "compiling the model");
      !s.ok()) {
    reactor->Finish(Counted(ctx_, "CompileModel", start, s));
    return reactor;
  }
  ServiceContext* ctx = ctx_;
  absl::Status queued = ctx_->compile_pool().Submit(
      *tenant, source_bytes,
      [ctx, call, request, response, reactor, start, memory,
       tenant = *tenant](absl::Status ready) mutable {
        if (!ready.ok()) {
          memory.reset();
          reactor->Finish(Counted(ctx, "CompileModel", start, ready));
          return;
        }
        bool cached = false;
        absl::StatusOr<std::shared_ptr<const Model>> model =
            absl::CancelledError("the call was cancelled");
        if (!call->IsCancelled()) {
          try {
            model = ctx->models().GetOrParse(tenant, request->model_source(), &cached);
          } catch (const std::bad_alloc&) {
            model = absl::ResourceExhaustedError("out of memory while compiling the model");
          }
        }
        memory.reset();  // before the client can see the answer
        reactor->Finish(AnswerCompile(ctx, call, model, cached, start, response));
      });
  if (!queued.ok()) reactor->Finish(Counted(ctx_, "CompileModel", start, queued));
  return reactor;
}

grpc::ServerUnaryReactor* EnsembleSolverService::GetServerInfo(grpc::CallbackServerContext* call,
                                                               const v1::GetServerInfoRequest*,
                                                               v1::ServerInfo* info) {
  const absl::Time start = absl::Now();
  if (absl::StatusOr<std::string> tenant = ctx_->tenants().ForCall(*call); !tenant.ok()) {
    grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
    reactor->Finish(Counted(ctx_, "GetServerInfo", start, tenant.status()));
    return reactor;
  }
  const ServerConfig& c = ctx_->config();
  info->set_version(kVersion);
  for (const DeviceStatus& d : ctx_->scheduler().devices()) {
    v1::DeviceInfo* di = info->add_devices();
    di->set_name(d.name);
    di->set_kind(d.kind);
    di->set_state(!d.in_service ? "out_of_service" : d.busy ? "busy" : "idle");
    di->set_threads(d.threads);
    di->set_batches_solved(d.batches_solved);
    di->set_busy_seconds(d.busy_seconds);
    di->set_model(d.model);
    di->set_memory_bytes(d.memory_bytes);
    di->set_compute_capability(d.compute_capability);
  }
  for (int a = 0; a < kNumAlgorithms; ++a) {
    const AlgorithmInfo& row = AlgorithmTable()[a];
    info->add_algorithms(row.name);
    v1::AlgorithmInfo* ai = info->add_algorithm_info();
    ai->set_name(row.name);
    ai->set_order(row.order);
    ai->set_embedded_order(row.embedded_order);
    ai->set_adaptive(row.adaptive);
    ai->set_stiff(row.stiff);
    ai->set_dense_order(row.dense_order);
    ai->set_stages(row.stages);
    ai->set_fsal(row.fsal);
    ai->set_jacobian(row.jacobian);
    ai->set_stochastic(row.stochastic);
  }
  v1::ServerLimits* l = info->mutable_limits();
  l->set_default_batch_size(c.default_batch_size);
  l->set_max_batch_size(c.max_batch_size);
  l->set_batch_output_bytes(c.batch_output_bytes);
  l->set_max_trajectories(c.max_trajectories);
  l->set_max_save_points(c.max_save_points);
  l->set_max_output_bytes(c.max_output_bytes);
  l->set_max_chunk_bytes(c.max_chunk_bytes);
  l->set_max_request_bytes(c.max_request_bytes);
  l->set_max_queued_trajectories(c.max_queued_trajectories);
  l->set_max_model_states(c.model_limits.max_states);
  l->set_max_model_params(c.model_limits.max_params);
  l->set_max_model_source_bytes(c.model_limits.max_source_bytes);
  l->set_memory_budget(c.memory_budget);
  l->set_max_request_memory(c.max_request_memory);
  l->set_max_request_steps(c.max_request_steps);
  l->set_max_job_seconds(absl::ToDoubleSeconds(c.max_job_time));
  l->set_stream_unread_timeout_seconds(absl::ToDoubleSeconds(c.stream_unread_timeout));
  l->set_max_identifier_length(c.model_limits.max_identifier_length);
  l->set_max_compile_seconds(c.model_limits.max_compile_seconds);
  l->set_max_raw_kernel_bytes(c.max_raw_kernel_bytes);
  l->set_tenant_max_memory(c.tenant_max_memory);
  l->set_tenant_max_jobs(c.tenant_max_jobs);
  l->set_tenant_max_trajectories(c.tenant_max_trajectories);
  l->set_tenant_max_steps(c.tenant_max_steps);
  info->set_serving(!ctx_->draining());
  info->set_active_jobs(ctx_->active_streams());
  info->set_queued_batches(ctx_->scheduler().queued_batches());
  info->set_cached_models(ctx_->models().size());
  ctx_->metrics().RecordRequest("GetServerInfo", "ok", absl::ToDoubleSeconds(absl::Now() - start));
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace ensolve::server
