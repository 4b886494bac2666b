// Helpers between C++ arrays and ensolve.v1.Tensor (raw little-endian bytes).
#ifndef ENSOLVE_CLIENT_TENSOR_H_
#define ENSOLVE_CLIENT_TENSOR_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "ensolve/v1/tensor.pb.h"

namespace ensolve {

// A float64 tensor of `shape` holding `values` (row-major; product(shape) == size()).
v1::Tensor Float64Tensor(const std::vector<double>& values, std::vector<int64_t> shape);

// Number of elements product(shape), or INVALID_ARGUMENT for a negative or overflowing shape.
absl::StatusOr<int64_t> NumElements(const v1::Tensor& t);
// Bytes per element of a dtype, 0 for DTYPE_UNSPECIFIED.
int DTypeSize(v1::DType dtype);

// The values of a float32/float64/int32/uint8 tensor as doubles. INVALID_ARGUMENT when
// data's length does not match dtype and shape.
absl::StatusOr<std::vector<double>> ToDoubles(const v1::Tensor& t);

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_TENSOR_H_
