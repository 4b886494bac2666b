#include "server/scheduler.h"

#include <algorithm>
#include <cmath>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/batch_reduction.h"
#include "server/log.h"

namespace ensolve::server {

// One device and the thread that feeds it. Everything but the atomics is used only by the
// worker's own thread (after construction).
struct BatchScheduler::Worker {
  Device device;
  std::string name;
  DeviceMetrics metrics;
  std::thread thread;
  std::atomic<bool> busy{false};
  std::atomic<int64_t> batches_solved{0};
  std::atomic<int64_t> busy_nanos{0};
  std::atomic<int64_t> batches_failed{0};
  // Taken out of service after kFailuresOutOfService failed batches in a row (under mu_).
  std::atomic<bool> in_service{true};
  int failures_in_a_row = 0;
  // What its tasks measured: steps per device second, and whether its backend cuts batches
  // into slices (then no task runs longer than one slice).
  double steps_per_second = 0;
  bool slices = false;

  // Models prepared for this device, by (model id, algorithm, precision); LRU-bounded.
  struct Prepared {
    std::shared_ptr<const Model> model;  // Prepare() needs the model to outlive the result
    std::unique_ptr<PreparedModel> prepared;
    uint64_t last_use = 0;
  };
  absl::flat_hash_map<std::string, Prepared> prepared;
  uint64_t clock = 0;
  static constexpr size_t kMaxPrepared = 64;

  absl::StatusOr<const PreparedModel*> GetPrepared(const JobSpec& spec) {
    const Model& model = *spec.solved_model();
    const SolveOptions& options = spec.solved_options();
    std::string key = absl::StrCat(model.hash(), "/", AlgorithmName(options.algorithm), "/",
                                   PrecisionName(options.precision), "/", options.outputs.size());
    for (const std::string& name : options.outputs) {
      absl::StrAppend(&key, "/", name.size(), ":", name);
    }
    auto it = prepared.find(key);
    if (it == prepared.end()) {
      const absl::Time start = absl::Now();
      absl::StatusOr<std::unique_ptr<PreparedModel>> p = device.backend->Prepare(model, options);
      if (!p.ok()) return p.status();
      metrics.prepares->Increment();
      metrics.prepare_seconds->Increment(absl::ToDoubleSeconds(absl::Now() - start));
      if (prepared.size() >= kMaxPrepared) {
        auto victim = std::min_element(prepared.begin(), prepared.end(), [](auto& a, auto& b) {
          return a.second.last_use < b.second.last_use;
        });
        prepared.erase(victim);
      }
      it = prepared.emplace(key, Prepared{spec.solved_model(), std::move(*p), 0}).first;
    }
    it->second.last_use = ++clock;
    return it->second.prepared.get();
  }
};

namespace {

// Codes of a backend failure that may be the device's, not the request's.
bool IsDeviceFault(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kDataLoss:
      return true;
    default:
      return false;
  }
}

// Steps (accepted + rejected) the trajectories of `r` have taken so far: all of them in a
// finished batch; in a sliced one, those of finished and suspended trajectories. Null when
// the result carries no step counts (reductions without states drop them).
std::optional<double> StepsTaken(const BatchResult& r) {
  if (r.count > 0 && r.stats.size() != static_cast<size_t>(r.count)) return std::nullopt;
  const ResumeState& rs = r.resume;
  const bool sliced = rs.status.size() == static_cast<size_t>(r.count) && r.count > 0;
  double steps = 0;
  for (int64_t i = 0; i < r.count; ++i) {
    if (!sliced || rs.status[i] == ResumeState::kFinished) {
      steps += static_cast<double>(r.stats[i].accepted) + r.stats[i].rejected;
    } else if (rs.status[i] == ResumeState::kSuspended) {
      const int32_t* c =
          &rs.counters[rs.from][static_cast<size_t>(rs.slot[i]) * ResumeState::kCounters];
      steps += static_cast<double>(c[0]) + c[1];
    }
  }
  return steps;
}

}  // namespace

BatchScheduler::BatchScheduler(std::vector<Device> devices, Options options, Metrics* metrics)
    : options_(options), metrics_(metrics) {
  for (Device& d : devices) {
    auto w = std::make_unique<Worker>();
    w->name = d.backend->name();
    // Several devices of one kind (two CPU workers) get "cpu", "cpu:1", ...
    int same = 0;
    for (const auto& other : workers_) same += other->device.backend->name() == w->name;
    if (same > 0) absl::StrAppend(&w->name, ":", same);
    w->metrics = metrics_->ForDevice(w->name);
    w->device = std::move(d);
    workers_.push_back(std::move(w));
  }
  for (auto& w : workers_) w->thread = std::thread([this, w = w.get()] { Run(w); });
}

BatchScheduler::~BatchScheduler() { Stop(); }

absl::Status BatchScheduler::Submit(std::shared_ptr<Job> job) {
  absl::MutexLock lock(&mu_);
  if (stopped_) return absl::UnavailableError("the server is shutting down");
  if (std::none_of(workers_.begin(), workers_.end(),
                   [](const auto& w) { return w->in_service.load(); })) {
    return absl::UnavailableError(
        "every device of this server is out of service (GetServerInfo); retry elsewhere");
  }
  const int64_t n = job->spec().trajectories;
  if (queued_trajectories_ + n > options_.max_queued_trajectories) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "server busy: ", queued_trajectories_, " trajectories are queued and this job adds ", n,
        ", over the limit of ", options_.max_queued_trajectories,
        " (--max_queued_trajectories); retry later"));
  }
  queued_batches_ += job->num_batches();
  metrics_->queue_depth().Set(static_cast<double>(queued_batches_));
  Job* key = job.get();
  Entry& e = entries_[key];
  e.job = std::move(job);
  RecountLocked(e);
  fair_.Add(key, e.job->spec().tenant, e.job->spec().share);
  work_.SignalAll();
  return absl::OkStatus();
}

int64_t BatchScheduler::Cancel(Job* job) {
  job->RaiseCancelFlag();
  absl::MutexLock lock(&mu_);
  return CancelLocked(job);
}

int64_t BatchScheduler::CancelLocked(Job* job) {
  auto it = entries_.find(job);
  if (it == entries_.end() || it->second.cancelled) return 0;
  Entry& e = it->second;
  e.cancelled = true;
  const int64_t dropped = job->num_batches() - e.next_batch +
                          static_cast<int64_t>(e.continuations.size() + e.retries.size());
  e.next_batch = job->num_batches();
  e.continuations.clear();
  e.retries.clear();
  queued_batches_ -= dropped;
  metrics_->queue_depth().Set(static_cast<double>(queued_batches_));
  metrics_->batches_dropped().Increment(static_cast<double>(dropped));
  MaybeRetireLocked(job);
  return dropped;
}

void BatchScheduler::Consumed(Job* job) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(job);
  if (it == entries_.end()) return;
  --it->second.unconsumed;
  RecountLocked(it->second);
  work_.SignalAll();
}

void BatchScheduler::RecountLocked(Entry& e) {
  // Held back: it may not dispatch more until its stream has sent what it has, and none of
  // its batches is on a device.
  const bool held = !e.cancelled && e.running == 0 && e.unconsumed >= window() &&
                    e.continuations.empty() && e.retries.empty() &&
                    e.next_batch < e.job->num_batches();
  const int64_t n = held ? 0 : e.job->spec().trajectories;
  queued_trajectories_ += n - e.counted;
  e.counted = n;
}

int64_t BatchScheduler::queued_trajectories() const {
  absl::MutexLock lock(&mu_);
  return queued_trajectories_;
}

void BatchScheduler::Stop() {
  std::vector<std::shared_ptr<Job>> unfinished;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [key, e] : entries_) unfinished.push_back(e.job);
    work_.SignalAll();
  }
  for (auto& job : unfinished) {
    job->Fail(absl::UnavailableError("the server shut down before the job finished"));
    Cancel(job.get());
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

int64_t BatchScheduler::queued_batches() const {
  absl::MutexLock lock(&mu_);
  return queued_batches_;
}

std::vector<DeviceStatus> BatchScheduler::devices() const {
  std::vector<DeviceStatus> out;
  for (const auto& w : workers_) {
    DeviceStatus s;
    s.name = w->name;
    s.kind = w->device.kind;
    s.threads = w->device.threads;
    s.model = w->device.model;
    s.memory_bytes = w->device.memory_bytes;
    s.compute_capability = w->device.compute_capability;
    s.busy = w->busy.load();
    s.in_service = w->in_service.load();
    s.batches_solved = w->batches_solved.load();
    s.batches_failed = w->batches_failed.load();
    s.busy_seconds = static_cast<double>(w->busy_nanos.load()) * 1e-9;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> BatchScheduler::device_names() const {
  std::vector<std::string> out;
  for (const auto& w : workers_) out.push_back(w->name);
  return out;
}

bool BatchScheduler::ReadyLocked(const Entry& e, const Worker& w) const {
  if (e.cancelled) return false;
  return !e.continuations.empty() || RetryFor(e, w) != nullptr ||
         (e.next_batch < e.job->num_batches() && e.unconsumed < window());
}

const BatchScheduler::Retry* BatchScheduler::RetryFor(const Entry& e, const Worker& w) const {
  if (e.retries.empty()) return nullptr;
  // The device it failed on takes it only when it is the last one in service.
  const bool alone = std::none_of(workers_.begin(), workers_.end(), [&](const auto& o) {
    return o.get() != &w && o->in_service.load();
  });
  for (const Retry& r : e.retries) {
    if (r.failed_on != &w || alone) return &r;
  }
  return nullptr;
}

double BatchScheduler::EstimatedWorkLocked(const Entry& e, const Worker& w) const {
  if (!e.continuations.empty()) return std::max(e.continuations.front().slice_work, 1.0);
  const JobSpec& spec = e.job->spec();
  const int64_t first = e.next_batch * spec.batch_size;
  const double count = static_cast<double>(std::min(spec.batch_size, spec.trajectories - first));
  double steps = kPriorSteps;
  if (e.measured_trajectories > 0) {
    steps = e.measured_steps / static_cast<double>(e.measured_trajectories);
  } else if (!spec.options.adaptive && spec.options.dt > 0) {
    steps = std::ceil(std::abs(spec.options.t1 - spec.options.t0) / spec.options.dt);
  }
  steps = std::min(steps, static_cast<double>(spec.options.max_steps));
  double work = count * steps;
  // On a device that slices, a task does at most one slice of work: charging a long batch
  // in full up front would make its tenant wait for it and then bank the refund.
  if (w.slices && w.steps_per_second > 0) {
    work = std::min(work, w.steps_per_second * absl::ToDoubleSeconds(options_.batch_slice));
  }
  return std::max(work, 1.0);
}

bool BatchScheduler::PickLocked(const Worker& w, Task* task) {
  // The lambdas run inside Pick, under mu_ (which the analysis cannot see through).
  auto entry = [this](FairQueue::JobKey key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> Entry& {
    return entries_.at(static_cast<Job*>(const_cast<void*>(key)));
  };
  const std::optional<FairQueue::JobKey> key = fair_.Pick(
      [&](FairQueue::JobKey k) ABSL_NO_THREAD_SAFETY_ANALYSIS { return ReadyLocked(entry(k), w); },
      [&](FairQueue::JobKey k)
          ABSL_NO_THREAD_SAFETY_ANALYSIS { return EstimatedWorkLocked(entry(k), w); });
  if (!key.has_value()) return false;
  Entry& e = entry(*key);
  task->job = e.job;
  task->charged = EstimatedWorkLocked(e, w);
  task->failed_on = nullptr;
  if (!e.continuations.empty()) {
    // Already dispatched once (and counted in `unconsumed`).
    task->index = e.continuations.front().index;
    task->continuation = std::move(e.continuations.front());
    e.continuations.pop_front();
  } else if (const Retry* r = RetryFor(e, w); r != nullptr) {
    // Likewise.
    task->index = r->index;
    task->failed_on = r->failed_on;
    task->continuation.reset();
    e.retries.erase(e.retries.begin() + (r - &e.retries.front()));
  } else {
    task->index = e.next_batch++;
    task->continuation.reset();
    ++e.unconsumed;
  }
  ++e.running;
  RecountLocked(e);
  --queued_batches_;
  metrics_->queue_depth().Set(static_cast<double>(queued_batches_));
  return true;
}

bool BatchScheduler::RetryElsewhereLocked(const Worker& w, const Task& task) {
  if (task.failed_on != nullptr || stopped_) return false;  // retried once already
  const bool other = std::any_of(workers_.begin(), workers_.end(), [&](const auto& o) {
    return o.get() != &w && o->in_service.load();
  });
  auto it = entries_.find(task.job.get());
  if (!other || it == entries_.end() || it->second.cancelled) return false;
  it->second.retries.push_back(Retry{task.index, &w});
  ++queued_batches_;
  metrics_->queue_depth().Set(static_cast<double>(queued_batches_));
  RecountLocked(it->second);
  work_.SignalAll();
  return true;
}

std::vector<std::shared_ptr<Job>> BatchScheduler::NoteOutcomeLocked(Worker& w, bool ok) {
  std::vector<std::shared_ptr<Job>> stranded;
  if (ok) {
    w.failures_in_a_row = 0;
    return stranded;
  }
  if (++w.failures_in_a_row < kFailuresOutOfService || !w.in_service.load()) return stranded;
  w.in_service.store(false);
  w.metrics.in_service->Set(0);
  Log(LogLevel::kError, "device_out_of_service")
      .Kv("device", w.name)
      .Kv("failed_in_a_row", w.failures_in_a_row);
  if (std::any_of(workers_.begin(), workers_.end(),
                  [](const auto& o) { return o->in_service.load(); })) {
    // Retries waiting for a device other than w may now run on any (w takes no more).
    work_.SignalAll();
    return stranded;
  }
  for (auto& [key, e] : entries_) stranded.push_back(e.job);
  return stranded;
}

void BatchScheduler::FailStranded(const std::vector<std::shared_ptr<Job>>& jobs) {
  for (const auto& job : jobs) {
    job->Fail(absl::UnavailableError(
        "every device of this server failed and is out of service; retry elsewhere"));
    Cancel(job.get());
  }
}

void BatchScheduler::MaybeRetireLocked(Job* job) {
  auto it = entries_.find(job);
  if (it == entries_.end()) return;
  const Entry& e = it->second;
  if (e.running > 0 || !e.continuations.empty() || !e.retries.empty() ||
      (!e.cancelled && e.next_batch < job->num_batches())) {
    return;
  }
  queued_trajectories_ -= e.counted;
  fair_.Remove(job);
  entries_.erase(it);
}

void BatchScheduler::Run(Worker* worker) {
  for (;;) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      while (!stopped_ && (!worker->in_service.load() || !PickLocked(*worker, &task))) {
        work_.Wait(&mu_);
      }
      if (task.job == nullptr) return;  // stopped
    }
    const std::shared_ptr<Job> job = task.job;
    const std::optional<double> work = SolveBatch(worker, task);
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(job.get());
    if (it != entries_.end()) {
      if (work.has_value()) fair_.Settle(job.get(), task.charged, *work);
      --it->second.running;
      RecountLocked(it->second);
      MaybeRetireLocked(job.get());
    }
  }
}

std::optional<double> BatchScheduler::SolveBatch(Worker* w, Task& task) {
  Job& job = *task.job;
  const int64_t index = task.index;
  const JobSpec& spec = job.spec();
  const int64_t first = index * spec.batch_size;
  const int64_t count = std::min(spec.batch_size, spec.trajectories - first);
  const absl::Time start = absl::Now();
  const double queue_seconds = absl::ToDoubleSeconds(start - job.admitted());
  metrics_->queue_wait().Observe(queue_seconds);

  w->busy = true;
  const std::optional<double> steps_before =
      task.continuation.has_value() ? StepsTaken(task.continuation->partial) : 0.0;
  absl::StatusOr<BatchResult> result = absl::CancelledError("cancelled before it started");
  if (!job.cancel_flag().load()) {
    // Out of memory here fails this job only (its budget estimate was too low, or other
    // processes took the memory), never the server.
    try {
      absl::StatusOr<const PreparedModel*> prepared = w->GetPrepared(spec);
      if (prepared.ok()) {
        BatchInputs in = MakeBatchInputs(spec, first, count);
        in.slice_seconds = absl::ToDoubleSeconds(options_.batch_slice);
        if (task.continuation.has_value()) in.resume = &task.continuation->partial;
        result =
            w->device.backend->Solve(**prepared, spec.solved_options(), in, &job.cancel_flag());
      } else {
        result = prepared.status();
      }
    } catch (const std::bad_alloc&) {
      result = absl::ResourceExhaustedError(
          "out of memory; retry later or ask for smaller batches (batch_size)");
    }
  }
  if (result.ok() && spec.reduction.has_value() && result->resume.Unfinished() == 0 &&
      !result->reduction.has_value()) {
    // A backend without reductions of its own: reduced here, on this worker's thread.
    if (absl::Status s = ReduceBatchOnHost(spec.reduction->spec, &*result, nullptr); !s.ok()) {
      result = s;
    }
  }
  if (result.ok() && spec.reduction.has_value() && result->resume.Unfinished() == 0) {
    // Checked here so the stream can rely on it.
    const BatchResult& r = *result;
    if (!r.reduction.has_value() || r.reduction->trajectories != count ||
        r.reduction->num_save != spec.num_save() || r.reduction->width != spec.num_states() ||
        r.reduction->bins != spec.reduction->spec.bins ||
        r.reduction->moments.size() != static_cast<size_t>(spec.reduction->spec.cells())) {
      result = absl::InternalError("backend returned a reduction of the wrong shape");
    }
  }
  if (result.ok() && !spec.streams_states() && result->resume.Unfinished() == 0) {
    if (result->count != count) {
      result = absl::InternalError(
          absl::StrCat("backend returned a reduction of ", result->count, " trajectories"));
    }
  } else if (result.ok()) {
    // A backend that returns the wrong shape is a bug; catch it before the stream copies.
    const BatchResult& r = *result;
    const size_t states = static_cast<size_t>(count) * spec.num_save() * spec.values_per_save();
    const size_t got =
        r.precision == Precision::kFloat32 ? r.states_f32.size() : r.states_f64.size();
    if (r.count != count || r.num_save != spec.num_save() ||
        r.num_states != spec.values_per_save() || r.precision != spec.options.precision ||
        got != states || r.retcodes.size() != static_cast<size_t>(count) ||
        r.stats.size() != static_cast<size_t>(count)) {
      result = absl::InternalError(absl::StrCat("backend returned a result of the wrong shape (",
                                                r.count, " trajectories, ", got, " values)"));
    }
  }
  const absl::Duration took = absl::Now() - start;
  w->busy = false;
  const double seconds = absl::ToDoubleSeconds(took);
  w->busy_nanos += absl::ToInt64Nanoseconds(took);
  w->metrics.busy_seconds->Increment(seconds);
  w->metrics.batch_duration->Observe(seconds);

  if (job.cancel_flag().load()) {
    w->metrics.batches_cancelled->Increment();
    return std::nullopt;
  }
  if (!result.ok()) {
    w->metrics.batches_failed->Increment();
    ++w->batches_failed;
    const bool fault = IsDeviceFault(result.status().code());
    bool retried = false;
    std::vector<std::shared_ptr<Job>> stranded;
    {
      absl::MutexLock lock(&mu_);
      if (fault) {
        // A raw kernel's fault is most likely the kernel's own: not run again elsewhere.
        if (!spec.model->is_raw_kernel()) retried = RetryElsewhereLocked(*w, task);
        stranded = NoteOutcomeLocked(*w, /*ok=*/false);
      }
    }
    Log(LogLevel::kWarning, "batch_failed")
        .Kv("job", job.id())
        .Kv("batch", index)
        .Kv("device", w->name)
        .Kv("error", result.status().ToString())
        .Kv("retry", retried                     ? "on another device"
                     : task.failed_on != nullptr ? "was one"
                                                 : "no");
    if (retried) {
      metrics_->batch_retries().Increment();
    } else {
      const std::string where =
          task.failed_on != nullptr
              ? absl::StrCat(w->name, " (run again after it failed on ", task.failed_on->name, ")")
              : w->name;
      job.Fail(absl::Status(
          fault ? absl::StatusCode::kInternal : result.status().code(),
          absl::StrCat("batch ", index, " (trajectories ", first, "..", first + count - 1, ") on ",
                       where, ": ", result.status().message())));
      Cancel(&job);
    }
    FailStranded(stranded);
    return std::nullopt;
  }
  if (w->failures_in_a_row > 0) {
    absl::MutexLock lock(&mu_);
    NoteOutcomeLocked(*w, /*ok=*/true);
  }
  // Without step counts (reductions without states) a task counts as its estimate.
  const std::optional<double> counted = StepsTaken(*result);
  const bool measured = counted.has_value() && steps_before.has_value();
  const double steps_total = measured ? *counted : 0.0;
  const double steps = measured ? *counted - *steps_before : task.charged;
  metrics_->AddTenantWork(spec.tenant, steps, seconds);
  {
    absl::MutexLock lock(&mu_);  // PickLocked reads them (on this thread, but under mu_)
    w->slices = w->slices || result->resume.status.size() > 0;
    if (seconds > 0 && steps > 0) {
      // A moving average over about the last ten tasks.
      const double rate = steps / seconds;
      w->steps_per_second = w->steps_per_second > 0 ? 0.9 * w->steps_per_second + 0.1 * rate : rate;
    }
  }
  if (result->resume.Unfinished() > 0) {
    // Out of its slice: the rest waits for the job's next turn, ahead of its next batch.
    Continuation c;
    if (task.continuation.has_value()) c = std::move(*task.continuation);
    c.index = index;
    c.partial = std::move(*result);
    c.solve_seconds += seconds;
    ++c.slices;
    c.slice_work = steps;
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(&job);
    if (it != entries_.end() && !it->second.cancelled) {
      it->second.continuations.push_back(std::move(c));
      RecountLocked(it->second);
      ++queued_batches_;
      metrics_->queue_depth().Set(static_cast<double>(queued_batches_));
      work_.SignalAll();
    }
    return steps;
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(&job);
    if (it != entries_.end()) {
      if (measured) {
        it->second.measured_trajectories += count;
        it->second.measured_steps += steps_total;
      }
    }
  }
  const double solve_seconds =
      seconds + (task.continuation.has_value() ? task.continuation->solve_seconds : 0.0);
  w->metrics.batches_completed->Increment();
  w->metrics.trajectories_solved->Increment(static_cast<double>(count));
  if (result->retcodes.size() == static_cast<size_t>(count)) {
    metrics_->CountRetCodes(result->retcodes.data(), count);
  } else {
    metrics_->CountRetCodes(result->reduction->retcodes, kNumRetCodes);
  }
  ++w->batches_solved;
  BatchOutput out;
  out.index = index;
  out.first = first;
  out.result = std::move(*result);
  out.device = w->name;
  out.queue_seconds = queue_seconds;
  out.solve_seconds = solve_seconds;
  job.Deliver(std::move(out));
  return steps;
}

}  // namespace ensolve::server
