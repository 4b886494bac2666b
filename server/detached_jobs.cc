#include "server/detached_jobs.h"

#include <openssl/rand.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/status_adapter.h"

namespace ensolve::server {
namespace {

// The metadata key that marks the store's own Solve calls; its value is a secret of this
// process, so no client can claim it.
constexpr char kInternalKey[] = "ensolve-internal-call";

std::string NewSecret() {
  unsigned char bytes[16] = {};
  RAND_bytes(bytes, sizeof(bytes));  // on failure the zeros only make it guessable
  std::string s;
  for (unsigned char b : bytes) absl::StrAppendFormat(&s, "%02x", b);
  return s;
}

}  // namespace

DetachedJobs::DetachedJobs(Options options, MemoryBudget* memory)
    : options_(options), memory_(memory), secret_(NewSecret()) {}

DetachedJobs::~DetachedJobs() { Stop(); }

void DetachedJobs::SetChannel(std::shared_ptr<grpc::Channel> channel) {
  absl::MutexLock lock(&mu_);
  channel_ = std::move(channel);
  stub_ = v1::EnsembleSolver::NewStub(channel_);
}

void DetachedJobs::SetSpillFolder(std::shared_ptr<SpillFolder> folder) {
  absl::MutexLock lock(&mu_);
  spill_ = std::move(folder);
}

bool DetachedJobs::IsInternal(const grpc::CallbackServerContext& call) const {
  const auto& md = call.client_metadata();
  auto it = md.find(kInternalKey);
  return it != md.end() && absl::string_view(it->second.data(), it->second.size()) == secret_;
}

void DetachedJobs::Submit(const std::string& tenant, const std::string* authorization,
                          const v1::SolveRequest& request, DetachedJob::Accepted done) {
  // Decided under the lock, answered after it: `done` may take other locks.
  absl::StatusOr<v1::SolveAccepted> answer = absl::InternalError("unset");
  std::shared_ptr<DetachedJob> job = StartOrAnswer(tenant, authorization, request, done, &answer);
  if (job == nullptr) {
    if (done) done(std::move(answer));  // else it waits for an earlier job's SolveAccepted
    return;
  }
  job->StartRead(&job->incoming_);
  job->StartCall();
}

std::shared_ptr<DetachedJob> DetachedJobs::StartOrAnswer(
    const std::string& tenant, const std::string* authorization, const v1::SolveRequest& request,
    DetachedJob::Accepted& done, absl::StatusOr<v1::SolveAccepted>* answer) {
  absl::MutexLock lock(&mu_);
  if (stopped_ || stub_ == nullptr) {
    *answer = absl::UnavailableError("the server is shutting down; retry elsewhere");
    return nullptr;
  }
  ExpireLocked(absl::Now());
  int kept = 0;
  std::shared_ptr<DetachedJob> same;
  for (const auto& j : jobs_) {
    if (j->tenant() != tenant) continue;
    ++kept;
    if (!request.request_id().empty() && j->request_id() == request.request_id()) same = j;
  }
  if (same != nullptr) {
    // The same request again: its job, once accepted.
    absl::MutexLock job_lock(&same->mu_);
    if (same->accepted_.has_value()) {
      *answer = *same->accepted_;
    } else if (same->ended_) {
      *answer = FromGrpcStatus(same->status_);  // it was refused; CallDone forgets it
    } else {
      same->on_accepted_.push_back(std::move(done));
      done = nullptr;
    }
    return nullptr;
  }
  if (options_.max_jobs_per_tenant > 0 && kept >= options_.max_jobs_per_tenant) {
    *answer = absl::ResourceExhaustedError(
        absl::StrCat("detached jobs: the tenant keeps ", kept,
                     " jobs, the server's limit (--max_kept_jobs); "
                     "cancel or watch some to their end, or wait for them to expire (--job_ttl)"));
    return nullptr;
  }
  std::unique_ptr<MemoryAccount> account = memory_->Open(tenant);
  const int64_t slot = std::min(options_.max_message_bytes, options_.job_bytes);
  if (absl::Status s = account->Reserve(slot, "a detached job's kept results"); !s.ok()) {
    *answer = s;
    return nullptr;
  }
  auto job = std::make_shared<DetachedJob>(this, tenant, request.request_id(),
                                           request.trajectories(), options_.job_bytes, slot,
                                           std::move(account), spill_, options_.spill_bytes);
  {
    absl::MutexLock job_lock(&job->mu_);
    job->slot_bytes_ = slot;  // the first read's slot, reserved above
    job->reading_ = true;
    job->on_accepted_.push_back(std::move(done));
  }
  job->request_ = request;
  if (authorization != nullptr) job->call_.AddMetadata("authorization", *authorization);
  job->call_.AddMetadata(kInternalKey, secret_);
  job->self_ = job;
  jobs_.push_back(job);
  ++running_;
  stub_->async()->Solve(&job->call_, &job->request_, job.get());
  return job;
}

void DetachedJobs::Register(DetachedJob* job) {
  absl::MutexLock lock(&mu_);
  for (const auto& j : jobs_) {
    if (j.get() == job) by_id_[job->id()] = j;
  }
}

void DetachedJobs::CallDone(DetachedJob* job, bool accepted) {
  absl::MutexLock lock(&mu_);
  --running_;
  if (!accepted) {
    // Not admitted: SubmitJob answered the error; nothing is kept.
    jobs_.erase(
        std::remove_if(jobs_.begin(), jobs_.end(), [&](const auto& j) { return j.get() == job; }),
        jobs_.end());
  }
}

absl::StatusOr<std::shared_ptr<DetachedJob>> DetachedJobs::Find(const std::string& tenant,
                                                                const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  ExpireLocked(absl::Now());
  auto it = by_id_.find(job_id);
  if (it == by_id_.end() || it->second->tenant() != tenant) {
    // Another tenant's job is no different from none.
    return absl::NotFoundError("job_id: no such job (it may have expired; see --job_ttl)");
  }
  return it->second;
}

std::shared_ptr<DetachedJob> DetachedJobs::FindByRequestId(const std::string& tenant,
                                                           const std::string& request_id) {
  absl::MutexLock lock(&mu_);
  ExpireLocked(absl::Now());
  for (const auto& j : jobs_) {
    if (j->tenant() == tenant && j->request_id() == request_id) return j;
  }
  return nullptr;
}

absl::StatusOr<v1::JobInfo> DetachedJobs::Cancel(const std::string& tenant,
                                                 const std::string& job_id) {
  absl::StatusOr<std::shared_ptr<DetachedJob>> job = Find(tenant, job_id);
  if (!job.ok()) return job.status();
  (*job)->Cancel();
  return (*job)->Info(absl::Now(), options_.ttl);
}

std::vector<v1::JobInfo> DetachedJobs::List(const std::string& tenant) {
  std::vector<std::shared_ptr<DetachedJob>> mine;
  {
    absl::MutexLock lock(&mu_);
    ExpireLocked(absl::Now());
    for (const auto& j : jobs_) {
      if (j->tenant() == tenant) mine.push_back(j);
    }
  }
  std::vector<v1::JobInfo> out;
  const absl::Time now = absl::Now();
  for (const auto& j : mine) {
    v1::JobInfo info = j->Info(now, options_.ttl);
    if (!info.job_id().empty()) out.push_back(std::move(info));  // accepted ones only
  }
  return out;
}

void DetachedJobs::ExpireLocked(absl::Time now) {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if ((*it)->Expired(now, options_.ttl)) {
      (*it)->RemoveSpill();
      by_id_.erase((*it)->id());
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

void DetachedJobs::Stop() {
  std::vector<std::shared_ptr<DetachedJob>> jobs;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    jobs = jobs_;
  }
  for (const auto& j : jobs) j->Cancel();
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return running_ == 0; };
  mu_.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(10));
  for (const auto& j : jobs_) j->RemoveSpill();  // jobs do not survive a restart
}

}  // namespace ensolve::server
