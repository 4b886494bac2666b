#include "server/service.h"

#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "engine/solve_options.h"
#include "server/log.h"
#include "server/solve_stream.h"
#include "server/status_adapter.h"
#include "server/version.h"

namespace ensolve::server {
namespace {

std::string RandomPrefix() {
  absl::BitGen gen;
  return absl::StrFormat("%06x", absl::Uniform<uint32_t>(gen, 0, 1u << 24));
}

}  // namespace

ServiceContext::ServiceContext(ServerConfig config, ModelCache* models, BatchScheduler* scheduler,
                               Metrics* metrics)
    : config_(std::move(config)),
      models_(models),
      scheduler_(scheduler),
      metrics_(metrics),
      id_prefix_(RandomPrefix()) {}

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
  return absl::StrFormat("%s-%d", id_prefix_, next_job_.fetch_add(1));
}

grpc::ServerWriteReactor<v1::SolveResponse>* EnsembleSolverService::Solve(
    grpc::CallbackServerContext* call, const v1::SolveRequest* request) {
  return new SolveStream(ctx_, call, request);
}

grpc::ServerUnaryReactor* EnsembleSolverService::CompileModel(
    grpc::CallbackServerContext* call, const v1::CompileModelRequest* request,
    v1::CompileModelResponse* response) {
  const absl::Time start = absl::Now();
  bool cached = false;
  absl::StatusOr<std::shared_ptr<const Model>> model =
      ctx_->models().GetOrParse(request->model_source(), &cached);
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
    response->set_cached(cached);
  }
  Log(LogLevel::kInfo, "compile_model")
      .Kv("peer", call->peer())
      .Kv("code", GrpcCodeName(status.error_code()))
      .Kv("model", model.ok() ? (*model)->hash() : "")
      .Kv("cached", cached);
  ctx_->metrics().RecordRequest("CompileModel", GrpcCodeName(status.error_code()),
                                absl::ToDoubleSeconds(absl::Now() - start));
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

grpc::ServerUnaryReactor* EnsembleSolverService::GetServerInfo(grpc::CallbackServerContext* call,
                                                               const v1::GetServerInfoRequest*,
                                                               v1::ServerInfo* info) {
  const absl::Time start = absl::Now();
  const ServerConfig& c = ctx_->config();
  info->set_version(kVersion);
  for (const DeviceStatus& d : ctx_->scheduler().devices()) {
    v1::DeviceInfo* di = info->add_devices();
    di->set_name(d.name);
    di->set_kind(d.kind);
    di->set_state(d.busy ? "busy" : "idle");
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
