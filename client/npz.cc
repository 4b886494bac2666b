#include "client/npz.h"

#include <zip.h>

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ensolve {
namespace {

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }  // after a successful zip_close: unused
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

std::string ZipError(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string text = zip_error_strerror(&e);
  zip_error_fini(&e);
  return text;
}

absl::StatusOr<ZipPtr> Open(const std::string& path, int flags) {
  int code = 0;
  zip_t* z = zip_open(path.c_str(), flags, &code);
  if (z == nullptr) {
    const std::string why = ZipError(code);
    if (code == ZIP_ER_NOENT || code == ZIP_ER_OPEN) {
      return absl::NotFoundError(absl::StrCat(path, ": cannot open (", why, ")"));
    }
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a .npz archive (", why, ")"));
  }
  return ZipPtr(z);
}

}  // namespace

absl::Status WriteNpz(const std::string& path, const std::vector<NpzMember>& members) {
  absl::StatusOr<ZipPtr> z = Open(path, ZIP_CREATE | ZIP_TRUNCATE);
  if (!z.ok()) return absl::UnavailableError(absl::StrCat(path, ": cannot create"));
  for (const NpzMember& m : members) {
    // The buffers stay alive until zip_close below, which reads them.
    zip_source_t* src = zip_source_buffer(z->get(), m.npy.data(), m.npy.size(), 0);
    if (src == nullptr) return absl::InternalError(zip_strerror(z->get()));
    const zip_int64_t index = zip_file_add(z->get(), absl::StrCat(m.key, ".npy").c_str(), src,
                                           ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(src);
      return absl::InternalError(absl::StrCat(path, ": ", zip_strerror(z->get())));
    }
    zip_set_file_compression(z->get(), static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
  }
  if (zip_close(z->get()) != 0) {
    return absl::DataLossError(absl::StrCat(path, ": write failed (", zip_strerror(z->get()), ")"));
  }
  z->release();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> NpzKeys(const std::string& path) {
  absl::StatusOr<ZipPtr> z = Open(path, ZIP_RDONLY);
  if (!z.ok()) return z.status();
  std::vector<std::string> keys;
  const zip_int64_t n = zip_get_num_entries(z->get(), 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(z->get(), static_cast<zip_uint64_t>(i), 0);
    if (name == nullptr) continue;
    std::string key = name;
    if (absl::EndsWith(key, ".npy")) key.resize(key.size() - 4);
    keys.push_back(std::move(key));
  }
  return keys;
}

absl::StatusOr<NpyArray> ReadNpzMember(const std::string& path, const std::string& key) {
  absl::StatusOr<ZipPtr> z = Open(path, ZIP_RDONLY);
  if (!z.ok()) return z.status();
  const std::string member = absl::StrCat(key, ".npy");
  const zip_int64_t index = zip_name_locate(z->get(), member.c_str(), 0);
  if (index < 0) {
    absl::StatusOr<std::vector<std::string>> keys = NpzKeys(path);
    return absl::NotFoundError(absl::StrCat(path, ": no array '", key, "' (it has: ",
                                            keys.ok() ? absl::StrJoin(*keys, ", ") : "?", ")"));
  }
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z->get(), static_cast<zip_uint64_t>(index), 0, &st) != 0 ||
      !(st.valid & ZIP_STAT_SIZE)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read ", member));
  }
  std::string bytes(static_cast<size_t>(st.size), '\0');
  zip_file_t* f = zip_fopen_index(z->get(), static_cast<zip_uint64_t>(index), 0);
  if (f == nullptr) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read ", member));
  const zip_int64_t got = zip_fread(f, bytes.data(), bytes.size());
  zip_fclose(f);
  if (got != static_cast<zip_int64_t>(bytes.size())) {
    return absl::DataLossError(absl::StrCat(path, ": ", member, " is truncated"));
  }
  return ParseNpy(bytes, absl::StrCat(path, "[", key, "]"));
}

}  // namespace ensolve
