#include "server/spill_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/log.h"
#include "server/memory_budget.h"

namespace ensolve::server {
namespace {

constexpr char kPrefix[] = "ensolve-job-";
constexpr char kSuffix[] = ".spill";

std::string ErrnoText(int e) { return std::strerror(e); }

// A failed write: a full disk or a file size limit is exhaustion, anything else (EIO) is
// the folder's fault.
absl::Status WriteError(const std::string& path, int e) {
  const std::string m = absl::StrCat("cannot write a detached job's results to ", path,
                                     " (--job_spill_dir): ", ErrnoText(e));
  return e == ENOSPC || e == EDQUOT || e == EFBIG ? absl::ResourceExhaustedError(m)
                                                  : absl::UnavailableError(m);
}

bool IsLowerHex(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

}  // namespace

bool SpillFolder::IsSpillName(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, kPrefix) || !absl::ConsumeSuffix(&name, kSuffix)) return false;
  return IsLowerHex(name);
}

absl::StatusOr<std::shared_ptr<SpillFolder>> SpillFolder::Open(const std::string& dir,
                                                               int64_t total_bytes) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--job_spill_dir=", dir, ": ", why, "; expected a writable directory"));
  };
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return bad(ErrnoText(errno));
  if (!S_ISDIR(st.st_mode)) return bad("not a directory");
  // Writable: a probe file made and removed (access() says yes to root on a read-only mount).
  const std::string probe = absl::StrCat(dir, "/.ensolve-probe-", ::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return bad(absl::StrCat("cannot create a file in it: ", ErrnoText(errno)));
  const bool wrote = ::write(fd, "x", 1) == 1;
  const int write_errno = errno;
  ::close(fd);
  ::unlink(probe.c_str());
  if (!wrote) return bad(absl::StrCat("cannot write a file in it: ", ErrnoText(write_errno)));

  // A previous run's files: jobs do not survive a restart.
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return bad(absl::StrCat("cannot list it: ", ErrnoText(errno)));
  std::vector<std::string> leftovers;
  while (const dirent* e = ::readdir(d)) {
    if (IsSpillName(e->d_name)) leftovers.emplace_back(e->d_name);
  }
  ::closedir(d);
  for (const std::string& name : leftovers) {
    const std::string path = absl::StrCat(dir, "/", name);
    const bool removed = ::unlink(path.c_str()) == 0;
    const std::string error = removed ? "" : ErrnoText(errno);
    Log(removed ? LogLevel::kInfo : LogLevel::kWarning, "spill_leftover_removed")
        .Kv("path", path)
        .Kv("ok", removed)
        .Kv("error", error);
  }
  return std::shared_ptr<SpillFolder>(new SpillFolder(dir, total_bytes));
}

absl::StatusOr<std::shared_ptr<SpillFile>> SpillFolder::Create(const std::string& job_id,
                                                               int64_t file_bytes) {
  if (!IsLowerHex(job_id)) {
    return absl::InternalError(absl::StrCat("spill file: a job id of lowercase hex expected, got '",
                                            absl::CEscape(job_id), "'"));
  }
  std::string path = absl::StrCat(dir_, "/", kPrefix, job_id, kSuffix);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int e = errno;
    return absl::UnavailableError(
        absl::StrCat("cannot create ", path, " (--job_spill_dir): ", ErrnoText(e)));
  }
  return std::shared_ptr<SpillFile>(
      new SpillFile(shared_from_this(), std::move(path), fd, file_bytes));
}

int64_t SpillFolder::bytes() const {
  absl::MutexLock lock(&mu_);
  return bytes_;
}

bool SpillFolder::Take(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  if (bytes_ + bytes > total_) return false;
  bytes_ += bytes;
  return true;
}

void SpillFolder::Give(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  bytes_ -= bytes;
}

SpillFile::~SpillFile() {
  Remove();
  ::close(fd_);
  absl::MutexLock lock(&mu_);
  folder_->Give(end_ - reclaimed_ + reserved_);
}

bool SpillFile::Reserve(int64_t bytes) {
  absl::MutexLock lock(&mu_);
  if (end_ - reclaimed_ + reserved_ + bytes > max_bytes_ || !folder_->Take(bytes)) return false;
  reserved_ += bytes;
  return true;
}

void SpillFile::Unreserve() {
  absl::MutexLock lock(&mu_);
  folder_->Give(reserved_);
  reserved_ = 0;
}

absl::StatusOr<SpillFile::Extent> SpillFile::Append(absl::string_view data) {
  const int64_t size = static_cast<int64_t>(data.size());
  Extent extent;
  {
    absl::MutexLock lock(&mu_);
    if (size > reserved_) {
      const int64_t more = size - reserved_;
      if (end_ - reclaimed_ + reserved_ + more > max_bytes_ || !folder_->Take(more)) {
        folder_->Give(reserved_);
        reserved_ = 0;
        return absl::ResourceExhaustedError(
            absl::StrCat("a detached job's message of ", FormatBytes(size), " does not fit in ",
                         path_, " (--job_spill_bytes, --job_spill_total_bytes)"));
      }
      reserved_ += more;
    }
    extent.offset = end_;
    extent.size = size;
  }
  // One appender at a time: nothing else writes at or after end_.
  int64_t done = 0;
  int error = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd_, data.data() + done, static_cast<size_t>(size - done),
                               static_cast<off_t>(extent.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : ENOSPC;
      break;
    }
    done += n;
  }
  absl::MutexLock lock(&mu_);
  folder_->Give(reserved_ - (error == 0 ? size : 0));  // the written bytes stay counted
  reserved_ = 0;
  if (error != 0) return WriteError(path_, error);
  end_ += size;
  return extent;
}

absl::Status SpillFile::Read(Extent extent, std::string* out) const {
  absl::ReaderMutexLock lock(&mu_);
  if (extent.offset < reclaimed_ || extent.offset + extent.size > end_) {
    return absl::OutOfRangeError(absl::StrCat("bytes ", extent.offset, "..",
                                              extent.offset + extent.size, " of ", path_,
                                              " were reclaimed or never written"));
  }
  out->resize(static_cast<size_t>(extent.size));
  int64_t done = 0;
  while (done < extent.size) {
    const ssize_t n = ::pread(fd_, out->data() + done, static_cast<size_t>(extent.size - done),
                              static_cast<off_t>(extent.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::DataLossError(
          absl::StrCat("cannot read a detached job's kept message back from ", path_,
                       " (--job_spill_dir): ", n < 0 ? ErrnoText(errno) : "the file is short"));
    }
    done += n;
  }
  return absl::OkStatus();
}

void SpillFile::Reclaim(int64_t offset) {
  absl::MutexLock lock(&mu_);
  offset = std::min(offset, end_);
  if (!can_punch_ || offset <= reclaimed_) return;
  if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, reclaimed_,
                  offset - reclaimed_) != 0) {
    const std::string error = ErrnoText(errno);
    can_punch_ = false;
    Log(LogLevel::kWarning, "spill_reclaim_failed")
        .Kv("path", path_)
        .Kv("error", error)
        .Kv("message",
            "acknowledged messages stay on disk and count toward --job_spill_bytes until the "
            "job expires");
    return;
  }
  folder_->Give(offset - reclaimed_);
  reclaimed_ = offset;
}

void SpillFile::Remove() {
  absl::MutexLock lock(&mu_);
  if (removed_) return;
  removed_ = true;
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    const std::string error = ErrnoText(errno);
    Log(LogLevel::kWarning, "spill_remove_failed").Kv("path", path_).Kv("error", error);
  }
}

int64_t SpillFile::bytes() const {
  absl::MutexLock lock(&mu_);
  return end_ - reclaimed_ + reserved_;
}

}  // namespace ensolve::server
