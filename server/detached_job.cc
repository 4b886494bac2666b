// DetachedJob: the reader of a detached job's internal Solve and the messages it keeps, in
// memory or in its spill file (detached_jobs.h).
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/detached_jobs.h"
#include "server/log.h"
#include "server/status_adapter.h"

namespace ensolve::server {

DetachedJob::DetachedJob(DetachedJobs* store, std::string tenant, std::string request_id,
                         int64_t trajectories, int64_t job_bytes, int64_t slot_bytes,
                         std::unique_ptr<MemoryAccount> memory, std::shared_ptr<SpillFolder> spill,
                         int64_t spill_bytes)
    : store_(store),
      tenant_(std::move(tenant)),
      request_id_(std::move(request_id)),
      trajectories_(trajectories),
      job_bytes_(job_bytes),
      slot_reserve_(slot_bytes),
      spill_folder_(std::move(spill)),
      spill_bytes_(spill_bytes),
      submitted_(absl::Now()),
      memory_(std::move(memory)) {}

std::string DetachedJob::id() const {
  absl::MutexLock lock(&mu_);
  return accepted_.has_value() ? accepted_->job_id() : "";
}

bool DetachedJob::ReadOrPauseLocked() {
  if (reading_ || ended_ || failure_.has_value()) return false;
  // Spilled, the next message takes room on disk; in memory, room in the job's bound. The
  // message being read is in memory either way.
  const bool disk = spill_ != nullptr && !spill_broken_;
  const bool room =
      disk ? spill_->Reserve(slot_reserve_) : memory_kept_bytes_ + slot_reserve_ <= job_bytes_;
  if (room && memory_->Reserve(slot_reserve_, "a detached job's kept results").ok()) {
    slot_bytes_ = slot_reserve_;
    disk_slot_ = disk;
    reading_ = true;
    return true;
  }
  if (room && disk) spill_->Unreserve();
  if (!paused_) {
    paused_ = true;
    AddHold();  // only counts: safe under mu_ (and we are in a reaction or before the call)
  }
  return false;
}

void DetachedJob::OnReadDone(bool ok) {
  if (!ok) {
    absl::MutexLock lock(&mu_);
    reading_ = false;
    memory_->Release(slot_bytes_);
    slot_bytes_ = 0;
    if (disk_slot_ && spill_ != nullptr) spill_->Unreserve();
    disk_slot_ = false;
    return;  // the call is over: OnDone follows
  }
  auto message = std::make_shared<v1::SolveResponse>(std::move(incoming_));
  incoming_.Clear();
  const int64_t size = static_cast<int64_t>(message->ByteSizeLong());
  // The file is written without mu_ (watchers read meanwhile); this is the only writer.
  std::shared_ptr<SpillFile> file;
  {
    absl::MutexLock lock(&mu_);
    if (disk_slot_) file = spill_;
  }
  absl::StatusOr<SpillFile::Extent> written = absl::UnknownError("not written");
  if (file != nullptr) written = file->Append(message->SerializeAsString());
  // The SolveAccepted names the job, and so its file: the messages after it go there.
  absl::StatusOr<std::shared_ptr<SpillFile>> created = absl::UnknownError("not created");
  if (spill_folder_ != nullptr && message->has_accepted()) {
    created = spill_folder_->Create(message->accepted().job_id(), spill_bytes_);
    if (!created.ok()) {
      Log(LogLevel::kError, "detached_job_spill_failed")
          .Kv("job", message->accepted().job_id())
          .Kv("error", std::string(created.status().message()))
          .Kv("message", "its results are kept in memory (--job_kept_bytes)");
    }
  }
  std::vector<Accepted> callbacks;
  v1::SolveAccepted accepted;
  bool read;
  bool fail;
  {
    absl::MutexLock lock(&mu_);
    if (message->has_accepted() && spill_ == nullptr && !spill_broken_) {
      if (created.ok()) {
        spill_ = *std::move(created);
      } else if (spill_folder_ != nullptr) {
        spill_broken_ = true;
      }
    }
    read = KeepLocked(message, size, file != nullptr, written);
    fail = failure_.has_value();
    if (message->has_accepted() && !accepted_.has_value()) {
      accepted_ = message->accepted();
      accepted = *accepted_;
      callbacks.swap(on_accepted_);
    }
    if (message->has_summary()) succeeded_ = true;
  }
  if (!accepted.job_id().empty()) {
    store_->Register(this);
    for (Accepted& c : callbacks) c(accepted);
  }
  if (fail) call_.TryCancel();  // OnDone follows, with failure_
  NotifyWatchers();
  if (read) StartRead(&incoming_);
}

bool DetachedJob::KeepLocked(std::shared_ptr<const v1::SolveResponse> message, int64_t size,
                             bool to_disk, const absl::StatusOr<SpillFile::Extent>& written) {
  reading_ = false;
  disk_slot_ = false;
  int64_t reserved = slot_bytes_;
  slot_bytes_ = 0;
  if (to_disk && written.ok()) {
    // Only its place stays in memory.
    const int64_t index = std::min<int64_t>(reserved, sizeof(Kept));
    memory_->Release(reserved - index);
    kept_.push_back(Kept{nullptr, *written, size, index});
    kept_bytes_ += size;
    return ReadOrPauseLocked();
  }
  if (to_disk) {
    // Not lost silently: in memory if it fits, else the job fails with the write's error.
    spill_broken_ = true;
    const bool fits = memory_kept_bytes_ + size <= job_bytes_;
    Log(LogLevel::kError, "detached_job_spill_failed")
        .Kv("job", accepted_.has_value() ? accepted_->job_id() : "")
        .Kv("error", std::string(written.status().message()))
        .Kv("message", fits ? "its results are kept in memory from now on (--job_kept_bytes)"
                            : "the job fails: its message does not fit in --job_kept_bytes");
    if (!fits) {
      memory_->Release(reserved);
      failure_ = grpc::Status(
          static_cast<grpc::StatusCode>(written.status().code()),
          absl::StrCat(written.status().message(), "; and a message of ", FormatBytes(size),
                       " does not fit in memory either (--job_kept_bytes=", job_bytes_, ")"));
      return false;
    }
  }
  if (size < reserved) {
    memory_->Release(reserved - size);
    reserved = size;
  } else if (size > reserved &&
             memory_->Reserve(size - reserved, "a detached job's kept results").ok()) {
    reserved = size;  // larger than a slot (inputs travel with its states): counted too
  }
  kept_.push_back(Kept{std::move(message), {}, size, reserved});
  kept_bytes_ += size;
  memory_kept_bytes_ += size;
  return ReadOrPauseLocked();
}

void DetachedJob::OnDone(const grpc::Status& status) {
  std::vector<Accepted> callbacks;
  bool accepted;
  {
    absl::MutexLock lock(&mu_);
    ended_ = true;
    ended_at_ = absl::Now();
    if (status.ok() && !succeeded_) {
      status_ =
          grpc::Status(grpc::StatusCode::INTERNAL, "the job's stream ended without a summary");
    } else if (failure_.has_value()) {
      status_ = *failure_;
    } else if (cancel_requested_ && status.error_code() == grpc::StatusCode::CANCELLED) {
      status_ = grpc::Status(grpc::StatusCode::CANCELLED, "the job was cancelled (CancelJob)");
    } else {
      status_ = status;
    }
    memory_->Release(slot_bytes_);
    slot_bytes_ = 0;
    if (disk_slot_ && spill_ != nullptr) spill_->Unreserve();
    disk_slot_ = false;
    accepted = accepted_.has_value();
    callbacks.swap(on_accepted_);
  }
  if (!accepted) {
    const absl::Status why = FromGrpcStatus(status);
    for (Accepted& c : callbacks) {
      c(why.ok() ? absl::InternalError("the job ended before it was accepted") : why);
    }
  }
  NotifyWatchers();
  std::shared_ptr<DetachedJob> self = std::move(self_);  // may be the last reference
  store_->CallDone(this, accepted);
}

void DetachedJob::NotifyWatchers() {
  std::vector<JobWatcher*> watchers;
  {
    absl::MutexLock lock(&mu_);
    watchers.swap(watchers_);  // each is told once; it asks again if it must wait again
    for (JobWatcher* w : watchers) w->Ref();
  }
  for (JobWatcher* w : watchers) {
    w->OnJobMessages();
    w->Unref();
  }
}

DetachedJob::Next DetachedJob::Get(int64_t offset, JobWatcher* watcher) {
  std::shared_ptr<SpillFile> file;
  SpillFile::Extent extent;
  {
    absl::MutexLock lock(&mu_);
    const int64_t end = first_offset_ + static_cast<int64_t>(kept_.size());
    if (offset < first_offset_ || offset >= end ||
        kept_[static_cast<size_t>(offset - first_offset_)].message != nullptr) {
      return GetLocked(offset, watcher);
    }
    file = spill_;
    extent = kept_[static_cast<size_t>(offset - first_offset_)].extent;
  }
  return ReadBack(file, extent, offset);  // without mu_: the file is append-only
}

DetachedJob::Next DetachedJob::ReadBack(const std::shared_ptr<SpillFile>& file,
                                        SpillFile::Extent extent, int64_t offset) {
  Next n;
  n.finished = true;
  if (file == nullptr) {
    n.status = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "the job's kept messages were removed (it expired or the server is "
                            "stopping)");
    return n;
  }
  std::string bytes;
  const absl::Status read = file->Read(extent, &bytes);
  if (read.code() == absl::StatusCode::kOutOfRange) {
    n.status = grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                            absl::StrCat("the message at offset ", offset,
                                         " was acknowledged by a later watch and dropped; watch "
                                         "from a later offset"));
    return n;
  }
  auto message = std::make_shared<v1::SolveResponse>();
  if (!read.ok()) {
    n.status =
        grpc::Status(static_cast<grpc::StatusCode>(read.code()), std::string(read.message()));
  } else if (!message->ParseFromString(bytes)) {
    n.status = grpc::Status(grpc::StatusCode::DATA_LOSS,
                            absl::StrCat("the kept message at offset ", offset, " read back from ",
                                         file->path(), " does not parse (--job_spill_dir)"));
  } else {
    n.finished = false;
    n.message = std::move(message);
  }
  return n;
}

DetachedJob::Next DetachedJob::GetLocked(int64_t offset, JobWatcher* watcher) {
  Next n;
  const int64_t end = first_offset_ + static_cast<int64_t>(kept_.size());
  if (offset < first_offset_) {
    n.finished = true;
    n.status =
        grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                     absl::StrCat("messages before offset ", first_offset_,
                                  " were acknowledged by a later watch and dropped; watch from ",
                                  first_offset_, " or later"));
  } else if (offset < end) {
    n.message = kept_[static_cast<size_t>(offset - first_offset_)].message;
  } else if (ended_) {
    n.finished = true;
    n.status = status_;
  } else if (paused_) {
    n.finished = true;  // OK before a summary: watch again from `offset` to go on
  } else if (watcher != nullptr &&
             std::find(watchers_.begin(), watchers_.end(), watcher) == watchers_.end()) {
    watchers_.push_back(watcher);
  }
  return n;
}

absl::Status DetachedJob::Acknowledge(int64_t offset) {
  bool resume = false;
  {
    absl::MutexLock lock(&mu_);
    const int64_t end = first_offset_ + static_cast<int64_t>(kept_.size());
    if (offset < first_offset_) {
      return absl::OutOfRangeError(
          absl::StrCat("from_offset: messages before ", first_offset_,
                       " were acknowledged by an earlier watch and dropped; watch from ",
                       first_offset_, " or later"));
    }
    if (offset > end) {
      return absl::OutOfRangeError(absl::StrCat("from_offset: ", offset, " is past the ", end,
                                                " messages the job has produced so far"));
    }
    int64_t reclaim = 0;  // the file's bytes before it are acknowledged
    while (first_offset_ < offset) {
      const Kept& k = kept_.front();
      kept_bytes_ -= k.bytes;
      if (k.message != nullptr) {
        memory_kept_bytes_ -= k.bytes;
      } else {
        reclaim = k.extent.offset + k.extent.size;
      }
      memory_->Release(k.reserved);
      kept_.pop_front();
      ++first_offset_;
    }
    if (reclaim > 0 && spill_ != nullptr) spill_->Reclaim(reclaim);
    if (paused_ && ReadOrPauseLocked()) {
      paused_ = false;
      resume = true;
    }
  }
  if (resume) {
    StartRead(&incoming_);
    RemoveHold();  // the read keeps the call open now
  }
  return absl::OkStatus();
}

void DetachedJob::RemoveSpill() {
  std::shared_ptr<SpillFile> file;
  {
    absl::MutexLock lock(&mu_);
    file = std::move(spill_);
    spill_.reset();
  }
  // Unlinked now; a read in progress holds the file open until it is done.
  if (file != nullptr) file->Remove();
}

void DetachedJob::RemoveWatcher(JobWatcher* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(std::remove(watchers_.begin(), watchers_.end(), watcher), watchers_.end());
}

void DetachedJob::Cancel() {
  bool release = false;
  {
    absl::MutexLock lock(&mu_);
    if (ended_) return;
    cancel_requested_ = true;
    release = paused_;
    paused_ = false;
  }
  call_.TryCancel();
  if (release) RemoveHold();  // with no read in progress, the call may end now
}

bool DetachedJob::Expired(absl::Time now, absl::Duration ttl) const {
  absl::MutexLock lock(&mu_);
  return ended_ && now - ended_at_ > ttl;
}

v1::JobInfo DetachedJob::Info(absl::Time now, absl::Duration ttl) const {
  absl::MutexLock lock(&mu_);
  v1::JobInfo info;
  if (accepted_.has_value()) info.set_job_id(accepted_->job_id());
  info.set_request_id(request_id_);
  info.set_trajectories(trajectories_);
  if (!ended_) {
    info.set_state(paused_ ? v1::JobInfo::STATE_PAUSED : v1::JobInfo::STATE_RUNNING);
  } else if (status_.ok()) {
    info.set_state(v1::JobInfo::STATE_SUCCEEDED);
  } else {
    info.set_state(cancel_requested_ && status_.error_code() == grpc::StatusCode::CANCELLED
                       ? v1::JobInfo::STATE_CANCELLED
                       : v1::JobInfo::STATE_FAILED);
    info.set_status_code(static_cast<int32_t>(status_.error_code()));
    info.set_status_message(status_.error_message());
  }
  info.set_first_offset(first_offset_);
  info.set_end_offset(first_offset_ + static_cast<int64_t>(kept_.size()));
  info.set_kept_bytes(kept_bytes_);
  info.set_age_seconds(absl::ToDoubleSeconds(now - submitted_));
  if (ended_)
    info.set_expires_in_seconds(std::max(0.0, absl::ToDoubleSeconds(ended_at_ + ttl - now)));
  return info;
}

}  // namespace ensolve::server
