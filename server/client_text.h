// Client-supplied text (names, ids, tokens, model snippets) echoed into logs and error
// messages is bounded: a 1 MiB algorithm name must not become a 1 MiB log line or an
// oversized status message. Every place that echoes client text goes through ClientText();
// Log and ToGrpcStatus also bound whole values and messages as a last line of defense.
#ifndef ENSOLVE_SERVER_CLIENT_TEXT_H_
#define ENSOLVE_SERVER_CLIENT_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace ensolve::server {

// Bytes of one piece of client text shown in a message or log field.
inline constexpr size_t kMaxEchoedBytes = 64;
// Bytes of a whole status message or log value.
inline constexpr size_t kMaxMessageBytes = 4096;

// `text` if at most `max_bytes` long, else its first `max_bytes` bytes followed by
// "...(N bytes)". Bytes outside printable ASCII are shown as \xNN (so the result may be
// longer than max_bytes by that escaping, never by more than 4x + 24).
std::string ClientText(absl::string_view text, size_t max_bytes = kMaxEchoedBytes);

// `message` cut to `max_bytes` (plus a "...(N bytes)" note) without escaping: for whole
// messages that are already escaped where needed.
std::string BoundedMessage(absl::string_view message, size_t max_bytes = kMaxMessageBytes);

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_CLIENT_TEXT_H_
