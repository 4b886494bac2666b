#include "client/cli_inputs.h"

#include <algorithm>
#include <fstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/npy.h"
#include "client/npz.h"
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

absl::StatusOr<v1::Sampler> ParseSamplerSpec(absl::string_view spec, const Columns* columns) {
  std::vector<absl::string_view> parts = absl::StrSplit(spec, ':');
  v1::Sampler s;
  // Named dimensions: index -> the values given for it.
  std::vector<std::vector<double>> named;
  bool any_named = false, any_positional = false;
  if (columns != nullptr) named.resize(columns->names.size());
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
    } else if (int d = -1;
               columns != nullptr &&
               (d = static_cast<int>(std::find(columns->names.begin(), columns->names.end(), key) -
                                     columns->names.begin())) <
                   static_cast<int>(columns->names.size())) {
      google::protobuf::RepeatedField<double> v;
      st = ParseDoubles(value, what, &v);
      const size_t want = kind == "grid" ? 3 : 2;
      if (st.ok() && static_cast<size_t>(v.size()) != want) {
        st = Bad(what, ": expected ",
                 kind == "grid"      ? "lo,hi,points"
                 : kind == "uniform" ? "lo,hi"
                                     : "mean,sd",
                 ", got '", value, "'");
      }
      if (!st.ok()) return st;
      named[d].assign(v.begin(), v.end());
      any_named = true;
      continue;
    } else {
      if (columns != nullptr && key != "lo" && key != "hi" && key != "mean" && key != "sd" &&
          key != "stddev" && key != "n" && key != "points") {
        return Bad("sampler '", spec, "': '", key, "' is not a ", columns->what, " (",
                   absl::StrJoin(columns->names, ", "), ")");
      }
      return Bad("sampler '", spec, "': unknown key '", key, "' for ", kind);
    }
    if (!st.ok()) return st;
    if (key != "seed") any_positional = true;
  }
  if (any_named && any_positional) {
    return Bad("sampler '", spec, "': give every dimension by name or none (lo=/hi=/...)");
  }
  if (any_named) {
    for (size_t d = 0; d < named.size(); ++d) {
      const double def = columns->defaults[d];
      const std::vector<double>& v = named[d];
      if (kind == "uniform") {
        s.mutable_uniform()->add_lo(v.empty() ? def : v[0]);
        s.mutable_uniform()->add_hi(v.empty() ? def : v[1]);
      } else if (kind == "normal") {
        s.mutable_normal()->add_mean(v.empty() ? def : v[0]);
        s.mutable_normal()->add_stddev(v.empty() ? 0 : v[1]);
      } else {
        if (!v.empty() && (v[2] != static_cast<int64_t>(v[2]) || v[2] < 1)) {
          return Bad("sampler '", spec, "': ", columns->names[d],
                     ": points must be a whole number >= 1");
        }
        s.mutable_grid()->add_lo(v.empty() ? def : v[0]);
        s.mutable_grid()->add_hi(v.empty() ? def : v[1]);
        s.mutable_grid()->add_points(v.empty() ? 1 : static_cast<int64_t>(v[2]));
      }
    }
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

namespace {

absl::StatusOr<NpyArray> ReadNpzTable(const std::string& spec, const std::string& default_key) {
  std::string path = spec, key;
  if (const size_t colon = spec.rfind(".npz:"); colon != std::string::npos) {
    path = spec.substr(0, colon + 4);
    key = spec.substr(colon + 5);
  }
  if (key.empty()) {
    absl::StatusOr<std::vector<std::string>> keys = NpzKeys(path);
    if (!keys.ok()) return keys.status();
    if (std::find(keys->begin(), keys->end(), default_key) != keys->end()) {
      key = default_key;
    } else if (keys->size() == 1) {
      key = (*keys)[0];
    } else {
      return Bad(path, ": holds ", keys->size(), " arrays (", absl::StrJoin(*keys, ", "),
                 "): say which, e.g. ", path, ":", keys->empty() ? "key" : (*keys)[0]);
    }
  }
  return ReadNpzMember(path, key);
}

// Maps a CSV header to the model's column order: order[j] = the file's column of name j.
absl::StatusOr<std::vector<int>> MatchHeader(const std::string& where,
                                             const std::vector<absl::string_view>& header,
                                             const Columns& columns) {
  std::vector<int> order(columns.names.size(), -1);
  for (size_t i = 0; i < header.size(); ++i) {
    const absl::string_view name = absl::StripAsciiWhitespace(header[i]);
    auto it = std::find(columns.names.begin(), columns.names.end(), name);
    if (it == columns.names.end()) {
      return Bad(where, ": header column '", name, "' is not a ", columns.what, " of the model (",
                 absl::StrJoin(columns.names, ", "), ")");
    }
    const size_t j = static_cast<size_t>(it - columns.names.begin());
    if (order[j] >= 0) return Bad(where, ": header names '", name, "' twice");
    order[j] = static_cast<int>(i);
  }
  std::vector<std::string> missing;
  for (size_t j = 0; j < order.size(); ++j) {
    if (order[j] < 0) missing.push_back(columns.names[j]);
  }
  if (!missing.empty()) {
    return Bad(where, ": header lacks ", columns.what, missing.size() > 1 ? "s " : " ",
               absl::StrJoin(missing, ", "), " (it has ", absl::StrJoin(header, ","), ")");
  }
  return order;
}

}  // namespace

absl::StatusOr<v1::Tensor> ReadTable(const std::string& path, const Columns* columns,
                                     const std::string& default_key) {
  const bool npz = absl::EndsWith(path, ".npz") || absl::StrContains(path, ".npz:");
  if (npz || absl::EndsWith(path, ".npy")) {
    absl::StatusOr<NpyArray> a = npz ? ReadNpzTable(path, default_key) : ReadNpy(path);
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
  std::vector<int> order;  // from a header matched to `columns`
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
        if (columns != nullptr) {
          absl::StatusOr<std::vector<int>> o =
              MatchHeader(absl::StrCat(path, ":", line_no), fields, *columns);
          if (!o.ok()) return o.status();
          order = *std::move(o);
        }
        continue;
      }
      return Bad(path, ":", line_no, ": not a row of numbers");
    }
    header_allowed = false;
    if (cols >= 0 && static_cast<int64_t>(row.size()) != cols) {
      return Bad(path, ":", line_no, ": ", row.size(), " columns, earlier rows have ", cols);
    }
    cols = static_cast<int64_t>(row.size());
    if (!order.empty()) {
      if (row.size() != order.size()) {
        return Bad(path, ":", line_no, ": ", row.size(), " columns, the header has ", order.size());
      }
      for (int c : order) values.push_back(row[c]);
      ++rows;
      continue;
    }
    values.insert(values.end(), row.begin(), row.end());
    ++rows;
  }
  if (rows == 0) return Bad(path, ": no rows of numbers");
  return Float64Tensor(values, {rows, cols});
}

}  // namespace ensolve
