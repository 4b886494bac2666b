#include "client/cli_inputs.h"

#include <fstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/npy.h"
#include "client/tensor.h"

namespace ensolve {
namespace {

template <typename... Parts>
absl::Status Bad(const Parts&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(parts...));
}

absl::Status ParseDoubles(absl::string_view text, absl::string_view what,
                          google::protobuf::RepeatedField<double>* out) {
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    double v;
    if (!absl::SimpleAtod(absl::StripAsciiWhitespace(part), &v)) {
      return Bad(what, ": '", part, "' is not a number");
    }
    out->Add(v);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::Sampler> ParseSamplerSpec(absl::string_view spec) {
  std::vector<absl::string_view> parts = absl::StrSplit(spec, ':');
  v1::Sampler s;
  const absl::string_view kind = parts[0];
  if (kind == "uniform") {
    s.mutable_uniform();
  } else if (kind == "normal") {
    s.mutable_normal();
  } else if (kind == "grid") {
    s.mutable_grid();
  } else {
    return Bad("sampler '", spec, "': kind '", kind, "' is not uniform, normal or grid");
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(parts[i], '=');
    const absl::string_view key = kv.first, value = kv.second;
    const std::string what = absl::StrCat("sampler ", kind, ": ", key);
    absl::Status st;
    if (key == "seed") {
      uint64_t seed;
      if (!absl::SimpleAtoi(value, &seed)) return Bad(what, ": '", value, "' is not a seed");
      s.set_seed(seed);
    } else if (key == "lo" && kind == "uniform") {
      st = ParseDoubles(value, what, s.mutable_uniform()->mutable_lo());
    } else if (key == "hi" && kind == "uniform") {
      st = ParseDoubles(value, what, s.mutable_uniform()->mutable_hi());
    } else if (key == "mean" && kind == "normal") {
      st = ParseDoubles(value, what, s.mutable_normal()->mutable_mean());
    } else if ((key == "sd" || key == "stddev") && kind == "normal") {
      st = ParseDoubles(value, what, s.mutable_normal()->mutable_stddev());
    } else if (key == "lo" && kind == "grid") {
      st = ParseDoubles(value, what, s.mutable_grid()->mutable_lo());
    } else if (key == "hi" && kind == "grid") {
      st = ParseDoubles(value, what, s.mutable_grid()->mutable_hi());
    } else if ((key == "n" || key == "points") && kind == "grid") {
      for (absl::string_view p : absl::StrSplit(value, ',')) {
        int64_t n;
        if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(p), &n)) {
          return Bad(what, ": '", p, "' is not an integer");
        }
        s.mutable_grid()->add_points(n);
      }
    } else {
      return Bad("sampler '", spec, "': unknown key '", key, "' for ", kind);
    }
    if (!st.ok()) return st;
  }
  return s;
}

absl::StatusOr<v1::SaveAt> ParseSaveAt(absl::string_view spec) {
  v1::SaveAt s;
  spec = absl::StripAsciiWhitespace(spec);
  if (spec.empty()) return s;
  if (absl::StrContains(spec, ':')) {
    std::vector<absl::string_view> p = absl::StrSplit(spec, ':');
    double v[3];
    if (p.size() != 3 || !absl::SimpleAtod(p[0], &v[0]) || !absl::SimpleAtod(p[1], &v[1]) ||
        !absl::SimpleAtod(p[2], &v[2])) {
      return Bad("--saveat '", spec, "': expected start:step:stop, e.g. 0:0.1:10");
    }
    s.mutable_range()->set_start(v[0]);
    s.mutable_range()->set_step(v[1]);
    s.mutable_range()->set_stop(v[2]);
    return s;
  }
  if (absl::Status st = ParseDoubles(spec, "--saveat", s.mutable_times()); !st.ok()) return st;
  return s;
}

absl::StatusOr<v1::Tensor> ReadTable(const std::string& path) {
  if (absl::EndsWith(path, ".npy")) {
    absl::StatusOr<NpyArray> a = ReadNpy(path);
    if (!a.ok()) return a.status();
    if (a->shape.size() != 1 && a->shape.size() != 2) {
      return Bad(path, ": expected a 1-D or 2-D array, got ", a->shape.size(), " dimensions");
    }
    absl::StatusOr<std::vector<double>> values = NpyToDoubles(*a);
    if (!values.ok()) return Bad(path, ": ", values.status().message());
    return Float64Tensor(*values, a->shape);
  }
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<double> values;
  int64_t rows = 0, cols = -1;
  std::string line;
  int line_no = 0;
  bool header_allowed = true;
  while (std::getline(in, line)) {
    ++line_no;
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l[0] == '#') continue;
    std::vector<absl::string_view> fields = absl::StrSplit(l, ',');
    std::vector<double> row;
    bool numeric = true;
    for (absl::string_view f : fields) {
      double v;
      if (!absl::SimpleAtod(absl::StripAsciiWhitespace(f), &v)) {
        numeric = false;
        break;
      }
      row.push_back(v);
    }
    if (!numeric) {
      if (header_allowed) {
        header_allowed = false;
        continue;
      }
      return Bad(path, ":", line_no, ": not a row of numbers");
    }
    header_allowed = false;
    if (cols >= 0 && static_cast<int64_t>(row.size()) != cols) {
      return Bad(path, ":", line_no, ": ", row.size(), " columns, earlier rows have ", cols);
    }
    cols = static_cast<int64_t>(row.size());
    values.insert(values.end(), row.begin(), row.end());
    ++rows;
  }
  if (rows == 0) return Bad(path, ": no rows of numbers");
  return Float64Tensor(values, {rows, cols});
}

}  // namespace ensolve
