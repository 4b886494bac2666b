#include "client/tensor.h"

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Tensors are little-endian on the wire; this code assumes a little-endian host"
#endif

namespace ensolve {

v1::Tensor Float64Tensor(const std::vector<double>& values, std::vector<int64_t> shape) {
  v1::Tensor t;
  t.set_dtype(v1::DTYPE_FLOAT64);
  for (int64_t d : shape) t.add_shape(d);
  t.set_data(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
  return t;
}

int DTypeSize(v1::DType dtype) {
  switch (dtype) {
    case v1::DTYPE_FLOAT32:
      return 4;
    case v1::DTYPE_FLOAT64:
      return 8;
    case v1::DTYPE_UINT8:
      return 1;
    case v1::DTYPE_INT32:
      return 4;
    case v1::DTYPE_INT64:
      return 8;
    default:
      return 0;
  }
}

absl::StatusOr<int64_t> NumElements(const v1::Tensor& t) {
  int64_t n = 1;
  for (int64_t d : t.shape()) {
    if (d < 0 || (d > 0 && n > std::numeric_limits<int64_t>::max() / d)) {
      return absl::InvalidArgumentError(absl::StrCat("tensor: bad shape dimension ", d));
    }
    n *= d;
  }
  return n;
}

absl::StatusOr<std::vector<double>> ToDoubles(const v1::Tensor& t) {
  const int size = DTypeSize(t.dtype());
  if (size == 0) return absl::InvalidArgumentError("tensor: unspecified dtype");
  absl::StatusOr<int64_t> n = NumElements(t);
  if (!n.ok()) return n.status();
  if (*n > static_cast<int64_t>(t.data().size()) / size ||
      static_cast<int64_t>(t.data().size()) != *n * size) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor: ", t.data().size(), " bytes do not match its shape and dtype"));
  }
  std::vector<double> out(static_cast<size_t>(*n));
  const char* p = t.data().data();
  for (int64_t i = 0; i < *n; ++i) {
    switch (t.dtype()) {
      case v1::DTYPE_FLOAT64:
        std::memcpy(&out[i], p + 8 * i, 8);
        break;
      case v1::DTYPE_FLOAT32: {
        float f;
        std::memcpy(&f, p + 4 * i, 4);
        out[i] = f;
        break;
      }
      case v1::DTYPE_INT32: {
        int32_t v;
        std::memcpy(&v, p + 4 * i, 4);
        out[i] = v;
        break;
      }
      case v1::DTYPE_INT64: {
        int64_t v;
        std::memcpy(&v, p + 8 * i, 8);
        out[i] = static_cast<double>(v);
        break;
      }
      default:
        out[i] = static_cast<uint8_t>(p[i]);
        break;
    }
  }
  return out;
}

}  // namespace ensolve
