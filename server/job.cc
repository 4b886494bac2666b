#include "server/job.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"

namespace ensolve::server {
namespace {

// Points `*data`/`*rows` (or `*sampler`) at the rows of trajectories [first, first + count)
// of `src`.
void SliceInput(const InputSource& src, int dims, int64_t first, int64_t count, const double** data,
                int64_t* rows, const Sampler** sampler) {
  if (dims == 0 || (!src.sampler.has_value() && src.values.empty())) {
    *data = nullptr;  // the model's defaults
    *rows = 1;
  } else if (src.sampler.has_value()) {
    *data = nullptr;
    *rows = count;
    *sampler = &*src.sampler;
  } else if (src.rows == 1) {
    *data = src.values.data();
    *rows = 1;
  } else {
    *data = src.values.data() + first * dims;
    *rows = count;
  }
}

}  // namespace

BatchInputs MakeBatchInputs(const JobSpec& spec, int64_t first, int64_t count) {
  BatchInputs in;
  in.count = count;
  in.first = spec.first_trajectory + first;  // samplers are keyed by the ensemble index
  in.seed = spec.seed;
  SliceInput(spec.u0, spec.model->num_states(), first, count, &in.u0, &in.u0_rows, &in.u0_sampler);
  SliceInput(spec.params, spec.model->num_params(), first, count, &in.p, &in.p_rows, &in.p_sampler);
  if (!spec.t0.empty()) in.t0 = spec.t0.data() + first;
  if (!spec.t1.empty()) in.t1 = spec.t1.data() + first;
  if (!spec.saveat.empty()) in.saveat = spec.saveat.data() + first * spec.num_save();
  if (spec.reduction.has_value()) in.reduction = &spec.reduction->spec;
  return in;
}

void JobSpec::SaveTimesOf(int64_t k, double* out) const {
  const int ns = num_save();
  if (!saveat.empty()) {
    std::copy_n(saveat.data() + k * ns, ns, out);
  } else if (!options.saveat.empty()) {
    std::copy_n(options.saveat.data(), ns, out);
  } else {
    out[0] = t1.empty() ? options.t1 : t1[k];
  }
}

Job::Job(std::string id, JobSpec spec)
    : id_(std::move(id)),
      spec_(std::move(spec)),
      num_batches_(spec_.num_batches()),
      admitted_(absl::Now()) {}

void Job::SetListener(JobListener* listener) {
  absl::MutexLock lock(&mu_);
  listener_ = listener;
}

void Job::DetachListener() {
  absl::MutexLock lock(&mu_);
  listener_ = nullptr;
  while (notifying_ > 0) idle_.Wait(&mu_);
}

std::optional<BatchOutput> Job::PopResult() {
  absl::MutexLock lock(&mu_);
  if (ready_.empty()) return std::nullopt;
  BatchOutput out = std::move(ready_.front());
  ready_.pop_front();
  return out;
}

bool Job::AllDelivered() const {
  absl::MutexLock lock(&mu_);
  return delivered_ == num_batches_;
}

absl::Status Job::failure() const {
  absl::MutexLock lock(&mu_);
  return failure_;
}

void Job::Deliver(BatchOutput output) {
  {
    absl::MutexLock lock(&mu_);
    ready_.push_back(std::move(output));
    ++delivered_;
  }
  Notify();
}

void Job::Fail(absl::Status status) {
  {
    absl::MutexLock lock(&mu_);
    if (failure_.ok()) failure_ = std::move(status);
  }
  RaiseCancelFlag();
  Notify();
}

void Job::Notify() {
  JobListener* listener;
  {
    absl::MutexLock lock(&mu_);
    listener = listener_;
    if (listener == nullptr) return;
    ++notifying_;
  }
  // Called without mu_: the listener takes its own lock and calls back into PopResult().
  listener->OnJobProgress();
  absl::MutexLock lock(&mu_);
  if (--notifying_ == 0) idle_.SignalAll();
}

}  // namespace ensolve::server
