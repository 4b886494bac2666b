// A small reader/writer of NumPy .npy files (format versions 1.0-3.0), enough for ensolve's
// inputs and outputs. Reading takes C or Fortran order and either byte order; what it
// returns is always C order and little-endian.
#ifndef ENSOLVE_CLIENT_NPY_H_
#define ENSOLVE_CLIENT_NPY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ensolve {

struct NpyArray {
  // NumPy type string: "<f8", "<f4", "<i8", "<i4", "|u1" (also "<u1", "|i1" ...).
  std::string descr;
  std::vector<int64_t> shape;  // empty: a scalar
  std::string data;            // the raw bytes, C order

  int64_t num_elements() const;
};

// Bytes per element of a descr this code understands, or 0.
int NpyItemSize(absl::string_view descr);

// Parses a whole .npy file's bytes, converting Fortran order to C order and big-endian
// numbers to little-endian (the returned descr says '<'). INVALID_ARGUMENT (with `name` in
// the message) for a bad magic, header or unknown dtype, or truncated data.
absl::StatusOr<NpyArray> ParseNpy(absl::string_view bytes, absl::string_view name = "npy");
absl::StatusOr<NpyArray> ReadNpy(const std::string& path);

// The values as doubles (any understood dtype).
absl::StatusOr<std::vector<double>> NpyToDoubles(const NpyArray& array);

// Writes `bytes` of raw data as an .npy file of `descr` and `shape` (format 1.0, or 2.0 for
// very long headers).
std::string NpyHeader(absl::string_view descr, const std::vector<int64_t>& shape);
absl::Status WriteNpy(const std::string& path, absl::string_view descr,
                      const std::vector<int64_t>& shape, const void* data, size_t bytes);

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_NPY_H_
