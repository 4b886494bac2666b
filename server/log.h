// Structured logs: one line per event on stderr, either
//   ts=2024-05-01T12:00:00.123456Z level=info event=job_accepted job=3f2a-1 trajectories=10000
// or the same fields as one JSON object per line.
//
//   Log(LogLevel::kInfo, "job_accepted").Kv("job", id).Kv("trajectories", n);
//
// The line is written when the Log object is destroyed (end of the statement), with a
// single write so lines from different threads never interleave. Thread-safe.
#ifndef ENSOLVE_SERVER_LOG_H_
#define ENSOLVE_SERVER_LOG_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace ensolve::server {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
enum class LogFormat { kKeyValue, kJson };

// Process-wide settings; set them before serving.
void SetLogFormat(LogFormat format);
void SetMinLogLevel(LogLevel level);
// Where lines go (default stderr). Not owned.
void SetLogOutput(std::FILE* out);

class Log {
 public:
  Log(LogLevel level, absl::string_view event);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  Log& Kv(absl::string_view key, absl::string_view value);
  Log& Kv(absl::string_view key, const char* value) { return Kv(key, absl::string_view(value)); }
  Log& Kv(absl::string_view key, const std::string& value) {
    return Kv(key, absl::string_view(value));
  }
  Log& Kv(absl::string_view key, bool value);
  Log& Kv(absl::string_view key, double value);
  template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
  Log& Kv(absl::string_view key, T value) {
    return Number(key, static_cast<int64_t>(value));
  }

 private:
  Log& Number(absl::string_view key, int64_t value);
  void Key(absl::string_view key);
  bool enabled_;
  bool json_;
  std::string line_;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_LOG_H_
