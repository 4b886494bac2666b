#include "client/progress.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using ::testing::HasSubstr;

TEST(ProgressBar, RendersDoneTotalRateAndEta) {
  const std::string line = ProgressBar::Render(4500, 10000, absl::Seconds(2));
  EXPECT_THAT(line, HasSubstr("4500/10000"));
  EXPECT_THAT(line, HasSubstr("45%"));
  EXPECT_THAT(line, HasSubstr("2.2k traj/s"));
  EXPECT_THAT(line, HasSubstr("ETA 3s"));
  EXPECT_THAT(ProgressBar::Render(10000, 10000, absl::Seconds(4)), HasSubstr("ETA 0s"));
  EXPECT_THAT(ProgressBar::Render(0, 10, absl::Seconds(0)), HasSubstr("ETA ?"));
  EXPECT_THAT(ProgressBar::Render(1000, 1000000, absl::Seconds(10)), HasSubstr("ETA 2h46m"));
}

TEST(ProgressBar, DisabledDrawsNothing) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  {
    ProgressBar bar(100, /*enabled=*/false, f);
    bar.Update(50);
    bar.Finish();
  }
  std::fclose(f);
  EXPECT_EQ(len, 0u);
  free(buf);
}

}  // namespace
}  // namespace ensolve
