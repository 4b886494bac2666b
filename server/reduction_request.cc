#include "server/reduction_request.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ensolve::server {
namespace {

template <typename... Parts>
absl::Status Invalid(const Parts&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(parts...));
}

std::string Shape(const v1::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.shape(), ", "), "]");
}

}  // namespace

bool ReductionRequest::wants(v1::Statistic s) const {
  return std::find(statistics.begin(), statistics.end(), s) != statistics.end();
}

absl::Status DecodeReductions(const v1::SolveRequest& request, int num_save,
                              const std::vector<std::string>& quantities, ReductionRequest* out) {
  const v1::Reductions& r = request.reductions();
  constexpr const char* kNames = "STATISTIC_MEAN, _VARIANCE, _MIN, _MAX, _HISTOGRAM";
  if (r.statistics_size() == 0) {
    return Invalid("reductions.statistics: name at least one of ", kNames);
  }
  for (int i = 0; i < r.statistics_size(); ++i) {
    const int s = r.statistics(i);
    if (s <= v1::STATISTIC_UNSPECIFIED || s > v1::STATISTIC_HISTOGRAM) {
      return Invalid("reductions.statistics[", i, "]: unknown statistic ", s, " (", kNames, ")");
    }
    for (int j = 0; j < i; ++j) {
      if (r.statistics(j) == s) {
        return Invalid("reductions.statistics[", i,
                       "]: ", v1::Statistic_Name(static_cast<v1::Statistic>(s)),
                       " is listed twice");
      }
    }
    out->statistics.push_back(static_cast<v1::Statistic>(s));
  }
  const int width = static_cast<int>(quantities.size());
  if (width > kMaxReductionQuantities) {
    return Invalid("reductions: ", width, " quantities per save point exceed the limit of ",
                   kMaxReductionQuantities, "; select fewer with outputs");
  }
  if (!std::isfinite(r.partial_seconds()) || r.partial_seconds() < 0) {
    return Invalid("reductions.partial_seconds: must be finite and >= 0, got ",
                   r.partial_seconds());
  }
  if (request.return_inputs() && !r.keep_states()) {
    return Invalid(
        "return_inputs: needs per-trajectory results, which reductions without keep_states do "
        "not send; set reductions.keep_states or drop return_inputs");
  }
  ReductionSpec& spec = out->spec;
  spec.num_save = num_save;
  spec.width = width;
  spec.keep_states = r.keep_states();
  out->partial_seconds = r.partial_seconds();

  const bool hist = out->wants(v1::STATISTIC_HISTOGRAM);
  if (!hist) {
    if (r.has_histogram_edges()) {
      return Invalid(
          "reductions.histogram_edges: set, but reductions.statistics does not ask for "
          "STATISTIC_HISTOGRAM");
    }
    return absl::OkStatus();
  }
  if (!r.has_histogram_edges()) {
    return Invalid("reductions.histogram_edges: required by STATISTIC_HISTOGRAM");
  }
  const v1::Tensor& t = r.histogram_edges();
  const int dims = t.shape_size();
  const int64_t rows = dims == 2 ? t.shape(0) : 1;
  const int64_t cols = dims >= 1 ? t.shape(dims - 1) : 0;
  if ((dims != 1 && dims != 2) || (dims == 2 && rows != width) || cols < 2) {
    return Invalid("reductions.histogram_edges: shape ", Shape(t),
                   " must be [bins + 1] or [quantities, bins + 1] with quantities = ", width,
                   " and at least 2 edges");
  }
  if (cols - 1 > kMaxReductionBins) {
    return Invalid("reductions.histogram_edges: ", cols - 1, " bins exceed the limit of ",
                   kMaxReductionBins);
  }
  int elem = 0;
  if (t.dtype() == v1::DTYPE_FLOAT64) {
    elem = 8;
  } else if (t.dtype() == v1::DTYPE_FLOAT32) {
    elem = 4;
  } else {
    return Invalid("reductions.histogram_edges: dtype must be DTYPE_FLOAT64 or DTYPE_FLOAT32, got ",
                   v1::DType_Name(t.dtype()));
  }
  if (static_cast<int64_t>(t.data().size()) != rows * cols * elem) {
    return Invalid("reductions.histogram_edges: data has ", t.data().size(), " bytes, but shape ",
                   Shape(t), " of ", v1::DType_Name(t.dtype()), " needs ", rows * cols * elem);
  }
  spec.bins = static_cast<int>(cols - 1);
  spec.per_quantity_edges = dims == 2;
  spec.edges.resize(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < spec.edges.size(); ++i) {
    if (elem == 8) {
      std::memcpy(&spec.edges[i], t.data().data() + 8 * i, 8);
    } else {
      float f;
      std::memcpy(&f, t.data().data() + 4 * i, 4);
      spec.edges[i] = f;
    }
  }
  for (int64_t q = 0; q < rows; ++q) {
    const double* e = spec.edges.data() + q * cols;
    const std::string where = dims == 2 ? absl::StrCat("[", q, ", ") : "[";
    for (int64_t j = 0; j < cols; ++j) {
      if (!std::isfinite(e[j])) {
        return Invalid("reductions.histogram_edges", where, j, "]: ", e[j], " is not finite");
      }
      if (j > 0 && !(e[j] > e[j - 1])) {
        return Invalid("reductions.histogram_edges", where, j, "]: ", e[j],
                       " is not above the edge before it (", e[j - 1],
                       "); edges must be strictly increasing");
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace ensolve::server
