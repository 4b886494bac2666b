#include "server/client_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ensolve::server {

std::string ClientText(absl::string_view text, size_t max_bytes) {
  const absl::string_view shown = text.substr(0, max_bytes);
  std::string out;
  out.reserve(shown.size() + 24);
  for (const char c : shown) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", u);
    }
  }
  if (text.size() > max_bytes) absl::StrAppend(&out, "...(", text.size(), " bytes)");
  return out;
}

std::string BoundedMessage(absl::string_view message, size_t max_bytes) {
  if (message.size() <= max_bytes) return std::string(message);
  return absl::StrCat(message.substr(0, max_bytes), "...(", message.size(), " bytes)");
}

}  // namespace ensolve::server
