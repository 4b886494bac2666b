// The queue accounting of BatchScheduler: a job whose stream does not consume its results
// stops counting against max_queued_trajectories once it is held back.
#include "server/scheduler.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "engine/backend.h"
#include "engine/model/model.h"
#include "engine/testing/lorenz.h"
#include "gtest/gtest.h"

namespace ensolve::server {
namespace {

std::shared_ptr<Job> LorenzJob(const std::string& id, int64_t trajectories, int64_t batch,
                               double t1) {
  JobSpec spec;
  spec.model = Model::Parse(ensolve::testing::kLorenz).value();
  spec.options.t1 = t1;
  spec.trajectories = trajectories;
  spec.batch_size = batch;
  spec.save_times = {t1};
  return std::make_shared<Job>(id, std::move(spec));
}

// Waits until `pred` holds (or 30 s pass).
template <typename Pred>
bool Eventually(Pred pred) {
  const absl::Time until = absl::Now() + absl::Seconds(30);
  while (!pred()) {
    if (absl::Now() > until) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

TEST(SchedulerTest, HeldBackJobsDoNotFillTheQueue) {
  Metrics metrics;
  std::vector<Device> devices(1);
  devices[0].backend = NewCpuBackend(1);
  devices[0].kind = "cpu";
  BatchScheduler::Options o;
  o.stream_buffer_batches = 1;
  o.max_queued_trajectories = 1000;
  BatchScheduler scheduler(std::move(devices), o, &metrics);

  // 1000 trajectories in batches of 100 (about 0.1 s each on the vectorized CPU backend,
  // long enough to be seen running below): the queue is full...
  std::shared_ptr<Job> idle = LorenzJob("idle", 1000, 100, 1000);
  ASSERT_TRUE(scheduler.Submit(idle).ok());
  std::shared_ptr<Job> other = LorenzJob("other", 10, 10, 0.01);
  const absl::Status full = scheduler.Submit(other);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  // ...until its window (1 buffered + 1 device = 2 batches) is solved and nobody consumes
  // it: then it waits for its reader, not for a device, and does not count.
  ASSERT_TRUE(Eventually([&] { return scheduler.queued_trajectories() == 0; }));
  ASSERT_TRUE(scheduler.Submit(other).ok());
  ASSERT_TRUE(Eventually([&] { return scheduler.queued_trajectories() == 0; }));  // other ran
  // The reader resumes: the idle job counts again while it runs its next batch.
  scheduler.Consumed(idle.get());
  EXPECT_EQ(scheduler.queued_trajectories(), 1000);
  scheduler.Cancel(idle.get());
  scheduler.Cancel(other.get());
  ASSERT_TRUE(Eventually([&] { return scheduler.queued_trajectories() == 0; }));
  scheduler.Stop();
}

}  // namespace
}  // namespace ensolve::server
