#include "server/solve_stream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/solve_inputs.h"
#include "server/client_text.h"
#include "server/log.h"
#include "server/raw_kernels.h"
#include "server/request.h"
#include "server/request_cost.h"
#include "server/sensitivities.h"
#include "server/status_adapter.h"

namespace ensolve::server {
namespace {

void SetTensor(v1::Tensor* t, v1::DType dtype, std::initializer_list<int64_t> shape,
               const void* data, size_t bytes) {
  t->set_dtype(dtype);
  t->clear_shape();
  for (int64_t d : shape) t->add_shape(d);
  // assign() reuses the string's capacity: chunks after the first allocate nothing.
  t->mutable_data()->assign(static_cast<const char*>(data), bytes);
}

}  // namespace

SolveStream::SolveStream(ServiceContext* ctx, grpc::CallbackServerContext* call,
                         const v1::SolveRequest* request)
    : ctx_(ctx),
      call_(call),
      request_(request),
      start_(absl::Now()),
      detached_(ctx->detached_jobs().IsInternal(*call)) {
  absl::StatusOr<std::string> tenant = ctx_->tenants().ForCall(*call_, kCapSolve, "Solve");
  if (!tenant.ok()) {
    Reject(tenant.status());
    return;
  }
  tenant_ = *std::move(tenant);
  if (absl::Status s = CheckRawKernelRequest(*request_, tenant_, ctx_->tenants(), ctx_->config(),
                                             ctx_->scheduler().device_names());
      !s.ok()) {
    Reject(s);
    return;
  }
  memory_ = ctx_->memory().Open(tenant_);
  // The request's tensors are decoded to float64 while validating: reserve that first.
  if (absl::Status s = memory_->Reserve(InputBytesEstimate(*request_), "the request's inputs");
      !s.ok()) {
    Reject(s);
    return;
  }
  // Sensitivities (server/sensitivities.h) compile a model of their own, cached apart.
  const std::vector<std::string> sensitivities(request_->sensitivities().begin(),
                                               request_->sensitivities().end());
  const bool by_id = request_->model_case() == v1::SolveRequest::kModelId;
  const bool sensitivities_cached =
      sensitivities.empty() ||
      ctx_->models().ContainsSensitivityModel(
          tenant_, by_id ? request_->model_id() : request_->model_source(), by_id, sensitivities);
  if ((request_->model_case() != v1::SolveRequest::kModelSource ||
       ctx_->models().Contains(tenant_, request_->model_source())) &&
      sensitivities_cached) {
    Admit();  // nothing to compile: cheap enough for this thread
    return;
  }
  int64_t source_bytes = static_cast<int64_t>(request_->model_source().size());
  if (by_id) {
    absl::StatusOr<std::shared_ptr<const Model>> m =
        ctx_->models().Find(tenant_, request_->model_id());
    if (!m.ok()) {
      Reject(m.status());
      return;
    }
    source_bytes = static_cast<int64_t>((*m)->source().size());
  }
  // The sensitivity model is about (1 + parameters) times the model.
  source_bytes *= 1 + static_cast<int64_t>(sensitivities.size());
  compile_bytes_ = CompileBytesEstimate(source_bytes);
  if (absl::Status s = memory_->Reserve(compile_bytes_, "compiling the model"); !s.ok()) {
    Reject(s);
    return;
  }
  absl::Status queued =
      ctx_->compile_pool().Submit(tenant_, source_bytes, [this](absl::Status ready) {
        if (!ready.ok()) {
          Reject(ready);
        } else {
          Admit();
        }
      });
  if (!queued.ok()) Reject(queued);
}

void SolveStream::Admit() {
  bool cancelled;
  {
    absl::MutexLock lock(&mu_);
    cancelled = cancelled_;
  }
  absl::StatusOr<JobSpec> spec = absl::CancelledError("the call was cancelled");
  bool cached = false;
  if (!cancelled) {
    try {
      spec = BuildJobSpec(*request_, ctx_->config(), ctx_->models(), tenant_, &cached);
    } catch (const std::bad_alloc&) {
      spec = absl::ResourceExhaustedError(
          "out of memory while decoding the request and compiling its model; retry later or "
          "send a smaller request");
    }
  }
  memory_->Release(compile_bytes_);  // compiled; the cache has a bound of its own
  compile_bytes_ = 0;
  if (spec.ok() && spec->model->is_raw_kernel()) {
    if (absl::Status s = CheckRawKernelAllowed(tenant_, ctx_->tenants(), ctx_->config(),
                                               ctx_->scheduler().device_names());
        !s.ok()) {
      spec = s;
    }
  }
  if (!spec.ok()) {
    Reject(spec.status());
    return;
  }
  const ServerConfig& config = ctx_->config();
  const JobCost cost = EstimateJobCost(*spec, config, ctx_->scheduler().num_devices());
  if (cost.steps > config.max_request_steps) {
    Reject(absl::ResourceExhaustedError(
        absl::StrCat("compute budget: trajectories x options.max_steps = ", spec->trajectories,
                     " x ", spec->options.max_steps, " = ", cost.steps,
                     " steps, over the per-request limit of ", config.max_request_steps,
                     " (--max_request_steps); lower options.max_steps or split the ensemble")));
    return;
  }
  const std::string what = absl::StrCat("the job's results and batch work (", cost.Describe(), ")");
  if (absl::Status s = memory_->Reserve(cost.memory(), what); !s.ok()) {
    Reject(s);
    return;
  }
  absl::StatusOr<std::unique_ptr<TenantLimits::Lease>> lease =
      ctx_->tenant_limits().Admit(tenant_, spec->trajectories, cost.steps);
  if (!lease.ok()) {
    Reject(lease.status());
    return;
  }
  lease_ = *std::move(lease);
  spec->share = ctx_->tenants().Share(tenant_);

  auto job = std::make_shared<Job>(ctx_->NextJobId(), *std::move(spec));
  const JobSpec& s = job->spec();
  {
    absl::MutexLock lock(&mu_);
    v1::SolveAccepted* a = resp_.mutable_accepted();
    a->set_job_id(job->id());
    a->set_request_id(s.request_id);
    a->set_model_id(s.model->hash());
    a->set_trajectories(s.trajectories);
    a->set_batches(job->num_batches());
    a->set_batch_size(s.batch_size);
    if (s.options.outputs.empty()) {
      for (const auto& n : s.model->state_names()) a->add_state_names(n);
    } else {
      for (const auto& n : s.options.outputs) a->add_state_names(n);
    }
    for (const auto& n : s.sensitivities) a->add_sensitivities(n);
    for (double t : s.save_times) a->add_save_times(t);
    if (s.reduction.has_value()) {
      reduce_ = std::make_unique<ReductionStream>(*s.reduction, start_);
      reduce_->Describe({a->state_names().begin(), a->state_names().end()},
                        a->mutable_reductions());
    }
    a->set_save_points(s.num_save());
    a->set_dtype(s.options.precision == Precision::kFloat32 ? v1::DTYPE_FLOAT32
                                                            : v1::DTYPE_FLOAT64);
    // The accepted message goes first: hold off result writes until it is done.
    write_in_flight_ = true;
    write_started_ = absl::Now();
  }
  if (!ctx_->TryStartStream()) {
    Reject(absl::UnavailableError("the server is draining (shutting down); retry elsewhere"));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    job_ = job;
  }
  job_->SetListener(this);
  if (absl::Status admitted = ctx_->scheduler().Submit(job_); !admitted.ok()) {
    job_->DetachListener();
    {
      absl::MutexLock lock(&mu_);
      job_.reset();
    }
    ctx_->StreamEnded();
    Reject(admitted);
    return;
  }
  Log(LogLevel::kInfo, "job_accepted")
      .Kv("job", job_->id())
      .Kv("tenant", ClientText(tenant_))
      .Kv("request_id", ClientText(s.request_id))
      .Kv("peer", call_->peer())
      .Kv("model", s.model->hash().substr(0, 12))
      .Kv("model_cached", cached)
      .Kv("algorithm", AlgorithmName(s.options.algorithm))
      .Kv("precision", PrecisionName(s.options.precision))
      .Kv("trajectories", s.trajectories)
      .Kv("save_points", s.num_save())
      .Kv("batches", job_->num_batches())
      .Kv("batch_size", s.batch_size)
      .Kv("memory_reserved", memory_->reserved());
  watched_ = true;
  ctx_->watchdog().Add(this);
  StartWrite(&resp_);
}

void SolveStream::CheckDeadlines(absl::Time now) {
  const ServerConfig& c = ctx_->config();
  bool unread = false, overtime = false;
  {
    absl::MutexLock lock(&mu_);
    if (finishing_ || deadline_hit_ || job_ == nullptr) return;
    // A detached job's reader stops reading by design when its kept results are full.
    unread = !detached_ && write_in_flight_ && c.stream_unread_timeout > absl::ZeroDuration() &&
             now - write_started_ > c.stream_unread_timeout;
    overtime = !unread && c.max_job_time > absl::ZeroDuration() && now - start_ > c.max_job_time;
    deadline_hit_ = unread || overtime;
  }
  if (unread) {
    // The client takes no data: a status could not reach it either. Cancelling frees the
    // job's buffered results and its admitted trajectories for everyone else.
    Log(LogLevel::kWarning, "stream_unread_timeout")
        .Kv("job", job_->id())
        .Kv("tenant", ClientText(tenant_))
        .Kv("peer", call_->peer())
        .Kv("timeout_s", absl::ToDoubleSeconds(c.stream_unread_timeout));
    ctx_->scheduler().Cancel(job_.get());
    call_->TryCancel();
  } else if (overtime) {
    Log(LogLevel::kWarning, "job_time_limit")
        .Kv("job", job_->id())
        .Kv("tenant", ClientText(tenant_))
        .Kv("limit_s", absl::ToDoubleSeconds(c.max_job_time));
    job_->Fail(absl::ResourceExhaustedError(absl::StrCat(
        "compute budget: the job ran for ", absl::FormatDuration(now - start_),
        ", past the server's limit of ", absl::FormatDuration(c.max_job_time),
        " (--max_job_time); lower options.max_steps, shorten the time span or split the "
        "ensemble")));
    ctx_->scheduler().Cancel(job_.get());
  }
}

void SolveStream::Reject(const absl::Status& status) {
  const grpc::Status g = ToGrpcStatus(status, "Solve");
  {
    absl::MutexLock lock(&mu_);
    finishing_ = true;
  }
  Log(LogLevel::kInfo, "solve_rejected")
      .Kv("peer", call_->peer())
      .Kv("code", GrpcCodeName(g.error_code()))
      .Kv("message", g.error_message());
  ctx_->metrics().RecordRequest("Solve", GrpcCodeName(g.error_code()),
                                absl::ToDoubleSeconds(absl::Now() - start_));
  ReleaseBudgets();
  Finish(g);
}

void SolveStream::ReleaseBudgets() {
  // Before the client can see the status: a client that sends its next request as soon as
  // this one ends must find its tenant's share free.
  lease_.reset();
  memory_.reset();
}

void SolveStream::OnJobProgress() { Pump(); }

void SolveStream::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    write_in_flight_ = false;
    if (!ok) cancelled_ = true;  // the stream broke: the client is gone
  }
  if (!ok && job_ != nullptr) ctx_->scheduler().Cancel(job_.get());
  Pump();
}

void SolveStream::OnCancel() {
  std::shared_ptr<Job> job;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    job = job_;  // null while the model compiles: Admit() sees cancelled_
  }
  if (job != nullptr) {
    const int64_t dropped = ctx_->scheduler().Cancel(job.get());
    Log(LogLevel::kInfo, "job_cancelled").Kv("job", job->id()).Kv("batches_dropped", dropped);
  }
  Pump();
}

void SolveStream::OnDone() {
  if (watched_) ctx_->watchdog().Remove(this);
  if (job_ != nullptr) {
    job_->DetachListener();
    ctx_->scheduler().Cancel(job_.get());  // no-op unless batches are left
    ctx_->StreamEnded();
  }
  delete this;
}

void SolveStream::Pump() {
  bool write = false, finish = false;
  grpc::Status status;
  {
    absl::MutexLock lock(&mu_);
    if (job_ == nullptr || write_in_flight_ || finishing_) return;
    // Read before popping: if every batch was delivered before the queue is seen empty,
    // nothing is left to send.
    const bool all_delivered = job_->AllDelivered();
    const absl::Status failure = job_->failure();
    if (cancelled_) {
      finish = true;
      // The client's own deadline timer usually cancels the call a moment before the
      // server's copy of the deadline passes, so "cancelled just before the deadline" counts
      // as the deadline.
      const bool expired =
          call_->deadline() - std::chrono::system_clock::now() < std::chrono::milliseconds(250);
      status = expired ? grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline exceeded")
                       : grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled");
    } else if (!failure.ok()) {
      finish = true;
      status = ToGrpcStatus(failure, absl::StrCat("Solve job ", job_->id()));
    } else if (absl::StatusOr<bool> chunk = NextChunkOrOutOfMemoryLocked(); !chunk.ok()) {
      finish = true;
      ctx_->scheduler().Cancel(job_.get());
      status = ToGrpcStatus(chunk.status(), absl::StrCat("Solve job ", job_->id()));
    } else if (*chunk) {
      write = true;
    } else if (all_delivered) {
      if (reduce_ != nullptr && !reduction_sent_) {
        reduce_->Fill(/*final=*/true, absl::Now(), resp_.mutable_reduction());
        reduction_sent_ = true;
        write = true;
      } else if (!summary_sent_) {
        FillSummaryLocked();
        summary_sent_ = true;
        write = true;
      } else {
        finish = true;
      }
    }
    write_in_flight_ = write;
    if (write) write_started_ = absl::Now();
    finishing_ = finish;
  }
  // gRPC is called without mu_: its reactions may run on other threads at once.
  if (write) {
    StartWrite(&resp_);
  } else if (finish) {
    RecordEnd(status);
    ReleaseBudgets();
    Finish(status);
  }
}

absl::StatusOr<bool> SolveStream::NextChunkOrOutOfMemoryLocked() {
  try {
    return NextChunkLocked();
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        "out of memory while preparing a result chunk; retry later or ask for smaller "
        "batches (batch_size)");
  }
}

bool SolveStream::NextChunkLocked() {
  if (current_.has_value() && cursor_ >= current_->result.count) {
    // With reductions a batch is released once merged too (reduction_stream.h).
    ReleaseBatchesLocked(reduce_ != nullptr ? reduce_->Streamed(current_->index) : 1);
    current_.reset();
  }
  while (!current_.has_value()) {
    current_ = job_->PopResult();
    if (!current_.has_value()) {
      if (reduce_ == nullptr || !reduce_->PartialDue(absl::Now())) return false;
      reduce_->Fill(/*final=*/false, absl::Now(), resp_.mutable_reduction());
      return true;
    }
    cursor_ = 0;
    ++batches_streamed_;
    queue_seconds_ += current_->queue_seconds;
    solve_seconds_ += current_->solve_seconds;
    devices_.insert(current_->device);
    if (first_batch_seconds_ < 0)
      first_batch_seconds_ = absl::ToDoubleSeconds(absl::Now() - start_);
    if (reduce_ != nullptr) {
      // The scheduler checked that a reduction came back (scheduler.cc).
      Reduction& red = *current_->result.reduction;
      const bool states = job_->spec().streams_states();
      if (!states) {
        for (int i = 0; i < kNumRetCodes; ++i) retcode_counts_[i] += red.retcodes[i];
      }
      int released = reduce_->Add(current_->index, std::move(red));
      if (!states) {
        released += reduce_->Streamed(current_->index);
        current_.reset();  // nothing of it is sent
      }
      ReleaseBatchesLocked(released);
    }
  }
  const BatchResult& r = current_->result;
  const bool f32 = r.precision == Precision::kFloat32;
  const int64_t elems = int64_t{r.num_save} * r.num_states;
  const int64_t traj_bytes = elems * (f32 ? 4 : 8);
  int64_t rows =
      traj_bytes > 0 ? std::max<int64_t>(1, ctx_->config().max_chunk_bytes / traj_bytes) : r.count;
  rows = std::min(rows, r.count - cursor_);

  v1::ResultChunk* c = resp_.mutable_chunk();
  c->set_first(current_->first + cursor_);
  c->set_count(rows);
  const v1::DType dtype = f32 ? v1::DTYPE_FLOAT32 : v1::DTYPE_FLOAT64;
  if (job_->spec().num_sensitivities() > 0) {
    // Each saved row holds the quantities and their sensitivities (server/sensitivities.h).
    const JobSpec& spec = job_->spec();
    const int q = spec.num_states();
    SetTensor(c->mutable_states(), dtype, {rows, r.num_save, q}, "", 0);
    SetTensor(c->mutable_sensitivities(), dtype, {rows, r.num_save, q, spec.num_sensitivities()},
              "", 0);
    SplitSensitivities(spec, r, cursor_, rows, c->mutable_states()->mutable_data(),
                       c->mutable_sensitivities()->mutable_data());
  } else {
    const void* states = f32 ? static_cast<const void*>(r.states_f32.data() + cursor_ * elems)
                             : static_cast<const void*>(r.states_f64.data() + cursor_ * elems);
    SetTensor(c->mutable_states(), dtype, {rows, r.num_save, r.num_states}, states,
              static_cast<size_t>(rows * traj_bytes));
  }
  static_assert(sizeof(RetCode) == 1, "retcodes travel as one byte each");
  SetTensor(c->mutable_retcodes(), v1::DTYPE_UINT8, {rows}, r.retcodes.data() + cursor_,
            static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) ++retcode_counts_[static_cast<int>(r.retcodes[cursor_ + i])];
  std::vector<int32_t> steps(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) steps[i] = r.stats[cursor_ + i].accepted;
  SetTensor(c->mutable_accepted_steps(), v1::DTYPE_INT32, {rows}, steps.data(), rows * 4);
  for (int64_t i = 0; i < rows; ++i) steps[i] = r.stats[cursor_ + i].rejected;
  SetTensor(c->mutable_rejected_steps(), v1::DTYPE_INT32, {rows}, steps.data(), rows * 4);
  for (int64_t i = 0; i < rows; ++i) steps[i] = r.stats[cursor_ + i].rhs_evals;
  SetTensor(c->mutable_rhs_evals(), v1::DTYPE_INT32, {rows}, steps.data(), rows * 4);
  SetTensor(c->mutable_t_final(), v1::DTYPE_FLOAT64, {rows}, r.t_final.data() + cursor_,
            static_cast<size_t>(rows * 8));
  if (job_->spec().model->num_events() > 0) {
    SetTensor(c->mutable_events_fired(), v1::DTYPE_INT32, {rows}, r.events_fired.data() + cursor_,
              static_cast<size_t>(rows * 4));
  } else {
    c->clear_events_fired();
  }

  if (job_->spec().return_inputs) AddInputsLocked(c, current_->first + cursor_, rows);
  if (job_->spec().per_trajectory_save_times()) {
    std::vector<double> times(static_cast<size_t>(rows) * r.num_save);
    for (int64_t i = 0; i < rows; ++i) {
      job_->spec().SaveTimesOf(current_->first + cursor_ + i, times.data() + i * r.num_save);
    }
    SetTensor(c->mutable_save_times(), v1::DTYPE_FLOAT64, {rows, r.num_save}, times.data(),
              times.size() * sizeof(double));
  } else {
    c->clear_save_times();
  }

  cursor_ += rows;
  bytes_streamed_ += rows * traj_bytes;
  ctx_->metrics().stream_bytes().Increment(static_cast<double>(rows * traj_bytes));
  return true;
}

void SolveStream::ReleaseBatchesLocked(int n) {
  for (int i = 0; i < n; ++i) ctx_->scheduler().Consumed(job_.get());
}

void SolveStream::AddInputsLocked(v1::ResultChunk* c, int64_t first, int64_t rows) {
  // Drawn again here, bitwise what the backend drew (samplers are keyed by trajectory), and
  // with initial states that follow parameters computed as the backend did.
  const JobSpec& spec = job_->spec();
  const Model& m = *spec.model;
  absl::StatusOr<ResolvedInputs> in = ResolveInputs(m, MakeBatchInputs(spec, first, rows));
  if (!in.ok()) return;  // cannot happen: the batch itself resolved these inputs
  auto put = [&](v1::Tensor* t, const double* data, int64_t data_rows, int dims) {
    std::vector<double> v(static_cast<size_t>(rows) * dims);
    for (int64_t i = 0; i < rows; ++i) {
      const double* row = data + (data_rows == 1 ? 0 : i) * dims;
      std::copy(row, row + dims, v.begin() + i * dims);
    }
    SetTensor(t, v1::DTYPE_FLOAT64, {rows, dims}, v.data(), v.size() * sizeof(double));
  };
  put(c->mutable_u0(), in->u0, in->u0_rows, m.num_states());
  put(c->mutable_params(), in->p, in->p_rows, m.num_params());
}

void SolveStream::FillSummaryLocked() {
  v1::SolveSummary* s = resp_.mutable_summary();
  s->set_trajectories(job_->spec().trajectories);
  for (int i = 0; i < kNumRetCodes; ++i) {
    if (retcode_counts_[i] > 0) {
      (*s->mutable_retcode_counts())[RetCodeName(static_cast<RetCode>(i))] = retcode_counts_[i];
    }
  }
  s->set_wall_seconds(absl::ToDoubleSeconds(absl::Now() - start_));
  s->set_queue_seconds(queue_seconds_);
  s->set_solve_seconds(solve_seconds_);
  s->set_first_batch_seconds(std::max(0.0, first_batch_seconds_));
  s->set_batches(batches_streamed_);
  for (const auto& d : devices_) s->add_devices(d);
  s->set_bytes_streamed(bytes_streamed_);
}

void SolveStream::RecordEnd(const grpc::Status& status) {
  ctx_->metrics().RecordRequest("Solve", GrpcCodeName(status.error_code()),
                                absl::ToDoubleSeconds(absl::Now() - start_));
  absl::MutexLock lock(&mu_);
  Log(status.ok() ? LogLevel::kInfo : LogLevel::kWarning, "job_finished")
      .Kv("job", job_->id())
      .Kv("code", GrpcCodeName(status.error_code()))
      .Kv("message", status.error_message())
      .Kv("batches_streamed", batches_streamed_)
      .Kv("bytes_streamed", bytes_streamed_)
      .Kv("wall_s", absl::ToDoubleSeconds(absl::Now() - start_))
      .Kv("solve_s", solve_seconds_);
}

}  // namespace ensolve::server
