#include "client/npy.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace ensolve {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

template <typename... Parts>
absl::Status Bad(absl::string_view name, const Parts&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", parts...));
}

// The value text after 'key': in a header dict, up to the next top-level ',' or '}'.
bool FindValue(absl::string_view header, absl::string_view key, absl::string_view* value) {
  const std::string quoted[] = {absl::StrCat("'", key, "'"), absl::StrCat("\"", key, "\"")};
  size_t pos = absl::string_view::npos;
  for (const auto& q : quoted) {
    pos = header.find(q);
    if (pos != absl::string_view::npos) {
      pos += q.size();
      break;
    }
  }
  if (pos == absl::string_view::npos) return false;
  pos = header.find(':', pos);
  if (pos == absl::string_view::npos) return false;
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(header.substr(pos + 1));
  size_t end = 0;
  if (!rest.empty() && rest[0] == '(') {
    end = rest.find(')');
    if (end == absl::string_view::npos) return false;
    ++end;
  } else {
    end = rest.find_first_of(",}");
    if (end == absl::string_view::npos) end = rest.size();
  }
  *value = absl::StripAsciiWhitespace(rest.substr(0, end));
  return true;
}

}  // namespace

int64_t NpyArray::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int NpyItemSize(absl::string_view descr) {
  if (descr.size() != 3) return 0;
  if (descr[0] != '<' && descr[0] != '|' && descr[0] != '=') return 0;
  const char kind = descr[1];
  if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b') return 0;
  const int size = descr[2] - '0';
  if (kind == 'f' && size != 4 && size != 8) return 0;
  if (size != 1 && size != 2 && size != 4 && size != 8) return 0;
  if (size > 1 && descr[0] == '|') return 0;
  return size;
}

absl::StatusOr<NpyArray> ParseNpy(absl::string_view bytes, absl::string_view name) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != absl::string_view(kMagic, 6)) {
    return Bad(name, "not a .npy file (bad magic)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Bad(name, "truncated header");
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i)
      len |= uint32_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
    header_len = len;
    offset = 12;
  } else {
    return Bad(name, "unsupported .npy version ", major);
  }
  if (bytes.size() < offset + header_len) return Bad(name, "truncated header");
  const absl::string_view header = bytes.substr(offset, header_len);

  NpyArray a;
  absl::string_view descr, fortran, shape;
  if (!FindValue(header, "descr", &descr) || !FindValue(header, "fortran_order", &fortran) ||
      !FindValue(header, "shape", &shape)) {
    return Bad(name, "header lacks descr, fortran_order or shape: ", header);
  }
  if (descr.size() < 2) return Bad(name, "bad descr ", descr);
  a.descr = std::string(descr.substr(1, descr.size() - 2));
  // Big-endian data is swapped to little-endian below; the descr says so from here on.
  const bool big_endian = a.descr.size() == 3 && a.descr[0] == '>';
  if (big_endian) a.descr[0] = a.descr[2] == '1' ? '|' : '<';
  if (NpyItemSize(a.descr) == 0) return Bad(name, "unsupported dtype ", a.descr);
  if (fortran != "False" && fortran != "True") return Bad(name, "bad fortran_order ", fortran);
  const bool fortran_order = fortran == "True";
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')') {
    return Bad(name, "bad shape ", shape);
  }
  for (absl::string_view part :
       absl::StrSplit(shape.substr(1, shape.size() - 2), ',', absl::SkipWhitespace())) {
    int64_t d;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &d) || d < 0) {
      return Bad(name, "bad shape ", shape);
    }
    a.shape.push_back(d);
  }
  const int item = NpyItemSize(a.descr);
  int64_t n = 1;
  for (int64_t d : a.shape) {
    if (d > 0 && n > std::numeric_limits<int64_t>::max() / item / d) return Bad(name, "too large");
    n *= d;
  }
  const absl::string_view data = bytes.substr(offset + header_len);
  if (static_cast<int64_t>(data.size()) < n * item) {
    return Bad(name, "truncated data: ", data.size(), " bytes, shape needs ", n * item);
  }
  a.data = std::string(data.substr(0, static_cast<size_t>(n * item)));
  if (big_endian && item > 1) {
    for (int64_t i = 0; i < n; ++i)
      std::reverse(a.data.begin() + i * item, a.data.begin() + (i + 1) * item);
  }
  if (fortran_order && a.shape.size() > 1) {
    // Element (i0, i1, ..., ik) sits at offset i0 + d0*(i1 + d1*(...)) in Fortran order.
    std::string c(a.data.size(), '\0');
    const size_t rank = a.shape.size();
    std::vector<int64_t> index(rank, 0);
    for (int64_t i = 0; i < n; ++i) {  // i walks C order; the last index varies fastest
      int64_t f = 0;
      for (size_t d = rank; d-- > 0;) f = f * a.shape[d] + index[d];
      std::memcpy(&c[i * item], &a.data[f * item], item);
      for (size_t d = rank; d-- > 0;) {
        if (++index[d] < a.shape[d]) break;
        index[d] = 0;
      }
    }
    a.data = std::move(c);
  }
  return a;
}

absl::StatusOr<NpyArray> ReadNpy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseNpy(bytes, path);
}

absl::StatusOr<std::vector<double>> NpyToDoubles(const NpyArray& a) {
  const int item = NpyItemSize(a.descr);
  if (item == 0) return absl::InvalidArgumentError(absl::StrCat("unsupported dtype ", a.descr));
  const int64_t n = a.num_elements();
  std::vector<double> out(static_cast<size_t>(n));
  const char* p = a.data.data();
  const char kind = a.descr[1];
  for (int64_t i = 0; i < n; ++i) {
    const char* q = p + i * item;
    if (kind == 'f' && item == 8) {
      std::memcpy(&out[i], q, 8);
    } else if (kind == 'f') {
      float f;
      std::memcpy(&f, q, 4);
      out[i] = f;
    } else if (kind == 'i') {
      int64_t v = 0;
      std::memcpy(&v, q, item);
      const int shift = 64 - 8 * item;  // sign-extend
      out[i] = static_cast<double>(shift > 0 ? (v << shift) >> shift : v);
    } else {
      uint64_t v = 0;
      std::memcpy(&v, q, item);
      out[i] = static_cast<double>(v);
    }
  }
  return out;
}

std::string NpyHeader(absl::string_view descr, const std::vector<int64_t>& shape) {
  std::string dict = absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (",
                                  absl::StrJoin(shape, ", "), shape.size() == 1 ? ",), }" : "), }");
  // Pad with spaces so the data starts on a 64-byte boundary; the header ends in '\n'.
  const bool v2 = dict.size() + 11 > 65535;
  const size_t prefix = v2 ? 12 : 10;
  const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string out(kMagic, 6);
  out.push_back(static_cast<char>(v2 ? 2 : 1));
  out.push_back(0);
  const size_t len = dict.size();
  for (size_t i = 0; i < (v2 ? 4u : 2u); ++i)
    out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  out += dict;
  return out;
}

absl::Status WriteNpy(const std::string& path, absl::string_view descr,
                      const std::vector<int64_t>& shape, const void* data, size_t bytes) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (f == nullptr) return absl::UnavailableError(absl::StrCat(path, ": cannot create"));
  const std::string header = NpyHeader(descr, shape);
  if (std::fwrite(header.data(), 1, header.size(), f.get()) != header.size() ||
      std::fwrite(data, 1, bytes, f.get()) != bytes) {
    return absl::DataLossError(absl::StrCat(path, ": write failed"));
  }
  if (std::fclose(f.release()) != 0)
    return absl::DataLossError(absl::StrCat(path, ": close failed"));
  return absl::OkStatus();
}

}  // namespace ensolve
