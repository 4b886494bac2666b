#include "client/progress.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace ensolve {
namespace {

std::string Human(double v) {
  if (v >= 1e9) return absl::StrFormat("%.1fG", v / 1e9);
  if (v >= 1e6) return absl::StrFormat("%.1fM", v / 1e6);
  if (v >= 1e3) return absl::StrFormat("%.1fk", v / 1e3);
  return absl::StrFormat("%.0f", v);
}

std::string Eta(double seconds) {
  if (!std::isfinite(seconds)) return "?";
  const int64_t s = static_cast<int64_t>(std::ceil(seconds));
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

}  // namespace

ProgressBar::ProgressBar(int64_t total, bool enabled, std::FILE* out)
    : total_(total), enabled_(enabled), out_(out), start_(absl::Now()) {}

std::string ProgressBar::Render(int64_t done, int64_t total, absl::Duration elapsed) {
  constexpr int kWidth = 24;
  const double frac = total > 0 ? std::clamp(static_cast<double>(done) / total, 0.0, 1.0) : 1.0;
  const int filled = static_cast<int>(frac * kWidth);
  const double secs = absl::ToDoubleSeconds(elapsed);
  const double rate = secs > 0 ? done / secs : 0;
  const double eta = rate > 0 ? (total - done) / rate : INFINITY;
  return absl::StrCat(
      "[", std::string(filled, '#'), std::string(kWidth - filled, '.'), "] ",
      absl::StrFormat("%*d/%d %3.0f%%", static_cast<int>(absl::StrCat(total).size()), done, total,
                      100 * frac),
      "  ", Human(rate), " traj/s  ETA ", done >= total ? "0s" : Eta(eta));
}

void ProgressBar::Draw(int64_t done) {
  const std::string line = Render(done, total_, absl::Now() - start_);
  std::fprintf(out_, "\r%s\x1b[K", line.c_str());
  std::fflush(out_);
  drawn_ = true;
}

void ProgressBar::Update(int64_t done) {
  done_ = done;
  if (!enabled_) return;
  const absl::Time now = absl::Now();
  if (now - last_draw_ < absl::Milliseconds(100)) return;
  last_draw_ = now;
  Draw(done);
}

void ProgressBar::Finish() {
  if (!enabled_) return;
  Draw(done_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace ensolve
