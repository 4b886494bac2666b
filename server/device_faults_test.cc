// Failing devices (BatchScheduler, "Faults"): a batch that fails with a device fault runs
// again on another device, a device that keeps failing is taken out of service, and a
// batch that fails twice fails only its own job. Faults are injected (fault_injection.h)
// into real CPU backends.
#include <memory>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "engine/backend.h"
#include "engine/model/model.h"
#include "engine/testing/lorenz.h"
#include "gtest/gtest.h"
#include "server/fault_injection.h"
#include "server/scheduler.h"

namespace ensolve::server {
namespace {

std::shared_ptr<Job> LorenzJob(const std::string& id, int64_t trajectories, int64_t batch) {
  JobSpec spec;
  spec.model = Model::Parse(ensolve::testing::kLorenz).value();
  // Batches of a few milliseconds each: long enough that every device takes some (a
  // device whose thread is slow to wake could otherwise find them all taken).
  spec.options.t1 = 20;
  spec.trajectories = trajectories;
  spec.batch_size = batch;
  spec.save_times = {20};
  spec.params.values = {10, 28, 8.0 / 3};
  return std::make_shared<Job>(id, std::move(spec));
}

std::unique_ptr<BatchScheduler> Cluster(int devices, const std::vector<InjectedFault>& faults,
                                        Metrics* metrics) {
  std::vector<Device> d(devices);
  for (Device& x : d) {
    x.backend = NewCpuBackend(1);
    x.kind = "cpu";
  }
  InjectFaults(faults, &d);
  return std::make_unique<BatchScheduler>(std::move(d), BatchScheduler::Options(), metrics);
}

// Reads every batch of `job` as its stream would, until all are delivered or it failed;
// the states of its trajectories in order (empty when it failed).
std::vector<double> Drain(BatchScheduler& s, Job& job) {
  std::vector<double> states(static_cast<size_t>(job.spec().trajectories) * 3);
  const absl::Time until = absl::Now() + absl::Seconds(60);
  while (absl::Now() < until) {
    while (std::optional<BatchOutput> out = job.PopResult()) {
      const auto& v = out->result.states_f64;
      std::copy(v.data(), v.data() + v.size(), states.begin() + out->first * 3);
      s.Consumed(&job);
    }
    if (!job.failure().ok()) return {};
    if (job.AllDelivered()) return states;
    absl::SleepFor(absl::Milliseconds(1));
  }
  ADD_FAILURE() << "job " << job.id() << " did not finish";
  return {};
}

TEST(DeviceFaults, AFailedBatchRunsAgainOnAnotherDeviceAndTheJobIsUnchanged) {
  Metrics healthy_metrics, metrics;
  auto healthy = Cluster(2, {}, &healthy_metrics);
  auto reference = LorenzJob("ref", 20000, 100);
  ASSERT_TRUE(healthy->Submit(reference).ok());
  const std::vector<double> expected = Drain(*healthy, *reference);
  ASSERT_FALSE(expected.empty());

  auto s = Cluster(2, {{0, 0, 1}}, &metrics);  // device 0's first batch fails
  auto job = LorenzJob("job", 20000, 100);
  ASSERT_TRUE(s->Submit(job).ok());
  const std::vector<double> got = Drain(*s, *job);
  ASSERT_TRUE(job->failure().ok()) << job->failure();
  EXPECT_EQ(got, expected);                       // bitwise: the retry ran the batch from its start
  EXPECT_EQ(metrics.batch_retries().Value(), 1);  // device 0 took a batch: its first failed
  for (const DeviceStatus& d : s->devices()) EXPECT_TRUE(d.in_service) << d.name;
  EXPECT_EQ(s->devices()[0].name, "cpu");
  EXPECT_EQ(s->devices()[1].name, "cpu:1");
}

TEST(DeviceFaults, ADeviceThatKeepsFailingIsTakenOutOfService) {
  Metrics metrics;
  auto s = Cluster(2, {{1, 0, 0}}, &metrics);  // device 1 fails every batch
  auto job = LorenzJob("job", 3000, 100);
  ASSERT_TRUE(s->Submit(job).ok());
  ASSERT_FALSE(Drain(*s, *job).empty());
  ASSERT_TRUE(job->failure().ok()) << job->failure();
  const std::vector<DeviceStatus> d = s->devices();
  EXPECT_TRUE(d[0].in_service);
  EXPECT_FALSE(d[1].in_service);
  EXPECT_EQ(d[1].batches_failed, BatchScheduler::kFailuresOutOfService);
  EXPECT_EQ(d[0].batches_solved, 30);
  EXPECT_EQ(metrics.batch_retries().Value(), BatchScheduler::kFailuresOutOfService);
  // Later jobs run on the device left.
  auto next = LorenzJob("next", 500, 100);
  ASSERT_TRUE(s->Submit(next).ok());
  ASSERT_FALSE(Drain(*s, *next).empty());
}

TEST(DeviceFaults, ABatchThatFailsTwiceFailsOnlyItsOwnJob) {
  Metrics metrics;
  auto s = Cluster(2, {{0, 0, 1}, {1, 0, 1}}, &metrics);  // each device's first batch fails
  auto doomed = LorenzJob("doomed", 100, 100);
  ASSERT_TRUE(s->Submit(doomed).ok());
  EXPECT_TRUE(Drain(*s, *doomed).empty());
  const absl::Status f = doomed->failure();
  EXPECT_EQ(f.code(), absl::StatusCode::kInternal) << f;
  EXPECT_NE(f.message().find("run again after it failed on cpu"), std::string::npos) << f;
  EXPECT_NE(f.message().find("injected fault"), std::string::npos) << f;
  auto fine = LorenzJob("fine", 300, 100);
  ASSERT_TRUE(s->Submit(fine).ok());
  EXPECT_FALSE(Drain(*s, *fine).empty());
  EXPECT_TRUE(fine->failure().ok()) << fine->failure();
}

TEST(DeviceFaults, WithNoDeviceLeftJobsFailUnavailableAndSubmitRefuses) {
  Metrics metrics;
  auto s = Cluster(1, {{0, 0, 0}}, &metrics);  // the only device fails everything
  for (int i = 0; i < BatchScheduler::kFailuresOutOfService; ++i) {
    auto job = LorenzJob("job", 100, 100);
    ASSERT_TRUE(s->Submit(job).ok());
    EXPECT_TRUE(Drain(*s, *job).empty());
    // No other device to retry on: its own failure, as INTERNAL (the last one takes the
    // device out of service after failing its job).
    EXPECT_EQ(job->failure().code(), absl::StatusCode::kInternal) << job->failure();
    EXPECT_EQ(s->devices()[0].in_service, i + 1 < BatchScheduler::kFailuresOutOfService);
  }
  const absl::Status refused = s->Submit(LorenzJob("late", 10, 10));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(refused.message().find("out of service"), std::string::npos) << refused;
}

}  // namespace
}  // namespace ensolve::server
