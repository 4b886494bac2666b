#include "server/log.h"

#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve::server {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string Capture(LogFormat format, void (*emit)()) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  SetLogOutput(f);
  SetLogFormat(format);
  emit();
  SetLogOutput(nullptr);
  SetLogFormat(LogFormat::kKeyValue);
  std::fclose(f);
  std::string out(buf, len);
  free(buf);
  return out;
}

void Emit() {
  Log(LogLevel::kInfo, "job_accepted")
      .Kv("job", "ab-1")
      .Kv("n", int64_t{10000})
      .Kv("ok", true)
      .Kv("ratio", 0.25)
      .Kv("message", "line 2, column 5: \"x\"");
}

TEST(Log, KeyValueIsOneLineWithQuotedValues) {
  const std::string line = Capture(LogFormat::kKeyValue, &Emit);
  EXPECT_THAT(line, MatchesRegex("ts=[0-9T:.-]+Z level=info event=job_accepted job=ab-1 "
                                 "n=10000 ok=true ratio=0.25 message=\"line 2, column 5: "
                                 "\\\\\"x\\\\\"\"\n"));
}

TEST(Log, JsonIsOneObjectPerLine) {
  const std::string line = Capture(LogFormat::kJson, &Emit);
  EXPECT_THAT(line, HasSubstr("\"event\":\"job_accepted\",\"job\":\"ab-1\",\"n\":10000,"
                              "\"ok\":true,\"ratio\":0.25,"
                              "\"message\":\"line 2, column 5: \\\"x\\\"\"}\n"));
  EXPECT_EQ(line.front(), '{');
}

TEST(Log, BelowTheMinimumLevelIsSilent) {
  SetMinLogLevel(LogLevel::kWarning);
  const std::string out = Capture(LogFormat::kKeyValue, &Emit);
  SetMinLogLevel(LogLevel::kInfo);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace ensolve::server
