// NumPy .npz archives (what np.savez writes: a zip of NAME.npy members), through libzip.
#ifndef ENSOLVE_CLIENT_NPZ_H_
#define ENSOLVE_CLIENT_NPZ_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/npy.h"

namespace ensolve {

// One member of an archive: its key (np.load(path)[key]) and the whole .npy file's bytes
// (NpyHeader(...) + data).
struct NpzMember {
  std::string key;
  std::string npy;
};

// Writes the members, uncompressed as np.savez does (ZIP64 when large), replacing `path`.
absl::Status WriteNpz(const std::string& path, const std::vector<NpzMember>& members);

// The keys of an archive, in order.
absl::StatusOr<std::vector<std::string>> NpzKeys(const std::string& path);

// Member `key` parsed as .npy. NOT_FOUND names the keys there are.
absl::StatusOr<NpyArray> ReadNpzMember(const std::string& path, const std::string& key);

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_NPZ_H_
