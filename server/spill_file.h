// Spill files: detached jobs' kept messages on local disk (--job_spill_dir; docs/api.md,
// "Detached jobs"). A SpillFolder is the server's folder and its bound on the bytes of all
// files in it; a SpillFile is one job's append-only file of messages, read back by
// (offset, size).
//
//   absl::StatusOr<std::shared_ptr<SpillFolder>> folder = SpillFolder::Open(dir, 64 << 30);
//   absl::StatusOr<std::shared_ptr<SpillFile>> file = (*folder)->Create(job_id, 4 << 30);
//   if ((*file)->Reserve(bytes)) { absl::StatusOr<SpillFile::Extent> e = (*file)->Append(b); }
//   (*file)->Read(*e, &out);
//
// Files are named ensolve-job-<job id>.spill, created with O_CREAT|O_EXCL and mode 0600.
// A file's bytes count toward its own bound and the folder's from the time they are
// reserved until they are reclaimed (a hole punched where acknowledged messages were) or
// the file is gone (removed and closed).
//
// Thread-safety: every method may be called from any thread, except that one file's
// Reserve/Append are called by one thread at a time (its job's reader).
#ifndef ENSOLVE_SERVER_SPILL_FILE_H_
#define ENSOLVE_SERVER_SPILL_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace ensolve::server {

class SpillFile;

class SpillFolder : public std::enable_shared_from_this<SpillFolder> {
 public:
  // Checks that `dir` is a writable directory (the error names --job_spill_dir) and
  // removes the files of a previous run it finds there (those named as this server names
  // them; nothing else is touched).
  static absl::StatusOr<std::shared_ptr<SpillFolder>> Open(const std::string& dir,
                                                           int64_t total_bytes);

  // The file of job `job_id` (lowercase hex), at most `file_bytes` on disk.
  absl::StatusOr<std::shared_ptr<SpillFile>> Create(const std::string& job_id, int64_t file_bytes);

  const std::string& dir() const { return dir_; }
  // Bytes counted over all files (written or reserved, not reclaimed).
  int64_t bytes() const;
  // Whether `name` is the name of a spill file.
  static bool IsSpillName(absl::string_view name);

 private:
  friend class SpillFile;
  SpillFolder(std::string dir, int64_t total_bytes) : dir_(std::move(dir)), total_(total_bytes) {}
  bool Take(int64_t bytes);
  void Give(int64_t bytes);

  const std::string dir_;
  const int64_t total_;
  mutable absl::Mutex mu_;
  int64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

class SpillFile {
 public:
  struct Extent {
    int64_t offset = 0;
    int64_t size = 0;
  };
  ~SpillFile();  // removes the file (if still there) and gives its bytes back
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Reserves room for an append of `bytes`; false, with nothing reserved, when this file's
  // bound or the folder's would be passed.
  bool Reserve(int64_t bytes);
  // Gives back what is reserved and not yet appended.
  void Unreserve();
  // Writes `data` at the end; it uses the reservation (what is left of it is given back)
  // and reserves the rest if it is larger. RESOURCE_EXHAUSTED at a bound; a failed write
  // (RESOURCE_EXHAUSTED for a full disk or a file size limit, else UNAVAILABLE) names the
  // file and the errno text. Nothing is counted for a failed append.
  absl::StatusOr<Extent> Append(absl::string_view data);
  // Reads what Append wrote at `extent` into `out`. OUT_OF_RANGE when it was reclaimed.
  absl::Status Read(Extent extent, std::string* out) const;
  // The bytes before `offset` are no longer needed: their room on disk is freed and no
  // longer counted (where the filesystem cannot punch holes they stay counted until the
  // file is gone; the first failure is logged).
  void Reclaim(int64_t offset);
  // Unlinks the file now; reads go on through the open descriptor until it is destroyed.
  void Remove();

  const std::string& path() const { return path_; }
  // Bytes counted toward the bounds: written and not reclaimed, plus reserved.
  int64_t bytes() const;

 private:
  friend class SpillFolder;
  SpillFile(std::shared_ptr<SpillFolder> folder, std::string path, int fd, int64_t max_bytes)
      : folder_(std::move(folder)), path_(std::move(path)), fd_(fd), max_bytes_(max_bytes) {}

  const std::shared_ptr<SpillFolder> folder_;
  const std::string path_;
  const int fd_;
  const int64_t max_bytes_;
  // Reads hold it shared, Reclaim exclusively: no read sees a hole punched under it.
  mutable absl::Mutex mu_;
  int64_t end_ ABSL_GUARDED_BY(mu_) = 0;        // the next append's offset
  int64_t reclaimed_ ABSL_GUARDED_BY(mu_) = 0;  // bytes before it are freed
  int64_t reserved_ ABSL_GUARDED_BY(mu_) = 0;
  bool can_punch_ ABSL_GUARDED_BY(mu_) = true;
  bool removed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_SPILL_FILE_H_
