#include "server/spill_file.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ensolve::server {
namespace {

constexpr char kId[] = "0123456789abcdef0123456789abcdef";

std::string NewDir() {
  std::string templ = "/tmp/ensolve_spill_XXXXXX";
  char* dir = ::mkdtemp(templ.data());
  EXPECT_NE(dir, nullptr);
  return templ;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Blocks the file takes on disk (holes take none).
int64_t AllocatedBytes(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? int64_t{st.st_blocks} * 512 : -1;
}

TEST(SpillFolder, RefusesWhatIsNotAWritableDirectoryNamingTheFlag) {
  const std::string dir = NewDir();
  absl::StatusOr<std::shared_ptr<SpillFolder>> f = SpillFolder::Open(dir + "/missing", 1 << 20);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(),
            absl::StrCat("--job_spill_dir=", dir,
                         "/missing: No such file or directory; expected a writable directory"));
  std::ofstream(dir + "/plain") << "x";
  f = SpillFolder::Open(dir + "/plain", 1 << 20);
  EXPECT_EQ(f.status().message(),
            absl::StrCat("--job_spill_dir=", dir,
                         "/plain: not a directory; expected a writable directory"));
  EXPECT_TRUE(SpillFolder::Open(dir, 1 << 20).ok());
}

TEST(SpillFolder, RemovesAPreviousRunsFilesAndNothingElse) {
  const std::string dir = NewDir();
  const std::string old = absl::StrCat(dir, "/ensolve-job-", kId, ".spill");
  std::ofstream(old) << "a previous run's";
  std::ofstream(dir + "/ensolve-job-XYZ.spill") << "not ours";
  std::ofstream(dir + "/notes.txt") << "not ours";
  ASSERT_TRUE(SpillFolder::Open(dir, 1 << 20).ok());
  EXPECT_FALSE(Exists(old));
  EXPECT_TRUE(Exists(dir + "/ensolve-job-XYZ.spill"));
  EXPECT_TRUE(Exists(dir + "/notes.txt"));
  EXPECT_TRUE(SpillFolder::IsSpillName(absl::StrCat("ensolve-job-", kId, ".spill")));
  EXPECT_FALSE(SpillFolder::IsSpillName("ensolve-job-.spill"));
  EXPECT_FALSE(SpillFolder::IsSpillName("ensolve-job-ab.spill.tmp"));
}

TEST(SpillFile, AppendsAndReadsBackByExtentAndIsPrivateAndRemovedWhenDropped) {
  const std::string dir = NewDir();
  auto folder = *SpillFolder::Open(dir, 1 << 20);
  absl::StatusOr<std::shared_ptr<SpillFile>> file = folder->Create(kId, 1 << 20);
  ASSERT_TRUE(file.ok()) << file.status();
  const std::string path = (*file)->path();
  EXPECT_EQ(path, absl::StrCat(dir, "/ensolve-job-", kId, ".spill"));
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The same name again: O_EXCL refuses it.
  EXPECT_EQ(folder->Create(kId, 1 << 20).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(folder->Create("../etc", 1 << 20).status().code(), absl::StatusCode::kInternal);

  std::string a(1000, 'a'), b = "second\0message";
  b.push_back('\0');
  ASSERT_TRUE((*file)->Reserve(4096));
  EXPECT_EQ(folder->bytes(), 4096);
  absl::StatusOr<SpillFile::Extent> ea = (*file)->Append(a);
  ASSERT_TRUE(ea.ok()) << ea.status();
  EXPECT_EQ(folder->bytes(), 1000);  // the rest of the reservation is given back
  absl::StatusOr<SpillFile::Extent> eb = (*file)->Append(b);  // larger than reserved (0)
  ASSERT_TRUE(eb.ok()) << eb.status();
  EXPECT_EQ(ea->offset, 0);
  EXPECT_EQ(ea->size, 1000);
  EXPECT_EQ(eb->offset, 1000);
  EXPECT_EQ((*file)->bytes(), 1000 + static_cast<int64_t>(b.size()));
  std::string out;
  ASSERT_TRUE((*file)->Read(*eb, &out).ok());
  EXPECT_EQ(out, b);
  ASSERT_TRUE((*file)->Read(*ea, &out).ok());
  EXPECT_EQ(out, a);
  EXPECT_EQ((*file)->Read({eb->offset, 1000}, &out).code(), absl::StatusCode::kOutOfRange);

  file->reset();
  EXPECT_FALSE(Exists(path));
  EXPECT_EQ(folder->bytes(), 0);
}

TEST(SpillFile, BoundsOfTheFileAndTheFolderAndReclaimingFreesRoom) {
  const std::string dir = NewDir();
  auto folder = *SpillFolder::Open(dir, 300000);
  std::shared_ptr<SpillFile> f = *folder->Create(kId, 200000);
  std::shared_ptr<SpillFile> g = *folder->Create("ab", 200000);
  const std::string block(100000, 'x');
  ASSERT_TRUE(f->Reserve(100000));
  ASSERT_TRUE(f->Append(block).ok());
  ASSERT_TRUE(f->Reserve(100000));
  ASSERT_TRUE(f->Append(block).ok());
  EXPECT_FALSE(f->Reserve(1));  // the file's bound
  absl::StatusOr<SpillFile::Extent> over = f->Append("y");
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(over.status().message().find("--job_spill_bytes"), std::string::npos);
  ASSERT_TRUE(g->Reserve(100000));
  EXPECT_FALSE(g->Reserve(1));  // the folder's bound
  g->Unreserve();
  EXPECT_EQ(folder->bytes(), 200000);

  EXPECT_GE(AllocatedBytes(f->path()), 200000);
  f->Reclaim(100000);  // the first message was acknowledged
  EXPECT_EQ(f->bytes(), 100000);
  EXPECT_EQ(folder->bytes(), 100000);
  EXPECT_LT(AllocatedBytes(f->path()), 200000);  // a hole where it was
  std::string out;
  EXPECT_EQ(f->Read({0, 100000}, &out).code(), absl::StatusCode::kOutOfRange);
  ASSERT_TRUE(f->Read({100000, 100000}, &out).ok());
  EXPECT_EQ(out, block);
  ASSERT_TRUE(f->Reserve(100000));  // room again
  absl::StatusOr<SpillFile::Extent> e = f->Append(block);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->offset, 200000);  // offsets never move
}

TEST(SpillFile, AFailedWriteNamesTheFileAndTheErrorAndCountsNothing) {
  const std::string dir = NewDir();
  auto folder = *SpillFolder::Open(dir, 1 << 20);
  std::shared_ptr<SpillFile> f = *folder->Create(kId, 1 << 20);
  // A file size limit makes the write fail with EFBIG, as a full disk would with ENOSPC.
  struct rlimit old;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  ASSERT_TRUE(f->Reserve(10000));
  absl::StatusOr<SpillFile::Extent> e = f->Append(std::string(10000, 'z'));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(e.status().message(), absl::StrCat("cannot write a detached job's results to ",
                                               f->path(), " (--job_spill_dir): File too large"));
  EXPECT_EQ(f->bytes(), 0);
  EXPECT_EQ(folder->bytes(), 0);
  // The next append starts where the failed one did.
  absl::StatusOr<SpillFile::Extent> next = f->Append("ok");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->offset, 0);
}

}  // namespace
}  // namespace ensolve::server
