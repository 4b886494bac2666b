#include "server/log.h"

#include <atomic>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/client_text.h"

namespace ensolve::server {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kKeyValue};
std::atomic<LogLevel> g_min_level{LogLevel::kInfo};
std::atomic<std::FILE*> g_out{nullptr};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// A JSON string literal: quotes, backslashes and control characters escaped.
void AppendJsonString(std::string* out, absl::string_view v) {
  out->push_back('"');
  for (char c : v) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// key=value values are quoted when they hold spaces, quotes, '=' or control characters.
void AppendKvValue(std::string* out, absl::string_view v) {
  bool plain = !v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      plain = false;
      break;
    }
  }
  if (plain) {
    out->append(v.data(), v.size());
    return;
  }
  AppendJsonString(out, v);  // the same escapes as JSON strings
}

}  // namespace

void SetLogFormat(LogFormat format) { g_format = format; }
void SetMinLogLevel(LogLevel level) { g_min_level = level; }
void SetLogOutput(std::FILE* out) { g_out = out; }

Log::Log(LogLevel level, absl::string_view event)
    : enabled_(level >= g_min_level.load()), json_(g_format.load() == LogFormat::kJson) {
  if (!enabled_) return;
  const std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone());
  if (json_) {
    line_ = absl::StrCat("{\"ts\":\"", ts, "\",\"level\":\"", LevelName(level), "\"");
  } else {
    line_ = absl::StrCat("ts=", ts, " level=", LevelName(level));
  }
  Kv("event", event);
}

Log::~Log() {
  if (!enabled_) return;
  line_.append(json_ ? "}\n" : "\n");
  std::FILE* out = g_out.load();
  if (out == nullptr) out = stderr;
  // One fwrite per line: stdio locks the stream per call, so lines do not interleave.
  std::fwrite(line_.data(), 1, line_.size(), out);
  std::fflush(out);
}

void Log::Key(absl::string_view key) {
  if (json_) {
    line_.push_back(',');
    AppendJsonString(&line_, key);
    line_.push_back(':');
  } else {
    line_.push_back(' ');
    line_.append(key.data(), key.size());
    line_.push_back('=');
  }
}

Log& Log::Kv(absl::string_view key, absl::string_view value) {
  if (!enabled_) return *this;
  Key(key);
  // No value makes a line longer than this (client text is bounded before it gets here;
  // this is the last line of defense).
  std::string bounded;
  if (value.size() > kMaxMessageBytes) {
    bounded = BoundedMessage(value);
    value = bounded;
  }
  if (json_) {
    AppendJsonString(&line_, value);
  } else {
    AppendKvValue(&line_, value);
  }
  return *this;
}

Log& Log::Kv(absl::string_view key, bool value) {
  if (!enabled_) return *this;
  Key(key);
  line_.append(value ? "true" : "false");
  return *this;
}

Log& Log::Kv(absl::string_view key, double value) {
  if (!enabled_) return *this;
  Key(key);
  if (std::isfinite(value)) {
    absl::StrAppendFormat(&line_, "%.6g", value);
  } else {
    line_.append(json_ ? "null" : absl::StrCat(value));
  }
  return *this;
}

Log& Log::Number(absl::string_view key, int64_t value) {
  if (!enabled_) return *this;
  Key(key);
  absl::StrAppend(&line_, value);
  return *this;
}

}  // namespace ensolve::server
