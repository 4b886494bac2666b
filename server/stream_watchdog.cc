#include "server/stream_watchdog.h"

#include <vector>

#include "absl/time/clock.h"

namespace ensolve::server {

StreamWatchdog::StreamWatchdog(absl::Duration period) : period_(period) {
  thread_ = std::thread([this] { Run(); });
}

StreamWatchdog::~StreamWatchdog() { Stop(); }

void StreamWatchdog::Add(Watched* w) {
  absl::MutexLock lock(&mu_);
  watched_.insert(w);
}

void StreamWatchdog::Remove(Watched* w) {
  absl::MutexLock lock(&mu_);
  watched_.erase(w);
  while (checking_ == w) changed_.Wait(&mu_);
}

void StreamWatchdog::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    changed_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void StreamWatchdog::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopped_) {
    changed_.WaitWithTimeout(&mu_, period_);
    if (stopped_) return;
    const std::vector<Watched*> all(watched_.begin(), watched_.end());
    for (Watched* w : all) {
      if (stopped_) return;
      if (!watched_.contains(w)) continue;  // removed meanwhile
      checking_ = w;
      const absl::Time now = absl::Now();
      mu_.Unlock();
      w->CheckDeadlines(now);
      mu_.Lock();
      checking_ = nullptr;
      changed_.SignalAll();
    }
  }
}

}  // namespace ensolve::server
