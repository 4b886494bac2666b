// A one-line progress bar for long solves: done/total, rate and ETA, redrawn in place on a
// terminal ("\r"). Not thread-safe; use from the thread reading the stream.
#ifndef ENSOLVE_CLIENT_PROGRESS_H_
#define ENSOLVE_CLIENT_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/time/time.h"

namespace ensolve {

class ProgressBar {
 public:
  // Draws nothing unless `enabled` (the CLI enables it when stderr is a terminal).
  ProgressBar(int64_t total, bool enabled, std::FILE* out = stderr);
  // Redraws with `done` trajectories finished, at most about ten times a second.
  void Update(int64_t done);
  // Draws the final state and ends the line (if anything was drawn).
  void Finish();

  // The line for `done` of `total` after `elapsed` (no "\r"), e.g.
  // "[#########...........]  4500/10000  45%  1.2k traj/s  ETA 4s".
  static std::string Render(int64_t done, int64_t total, absl::Duration elapsed);

 private:
  void Draw(int64_t done);
  const int64_t total_;
  const bool enabled_;
  std::FILE* const out_;
  const absl::Time start_;
  absl::Time last_draw_ = absl::InfinitePast();
  bool drawn_ = false;
  int64_t done_ = 0;
};

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_PROGRESS_H_
