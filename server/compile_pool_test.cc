#include "server/compile_pool.h"

#include <atomic>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve::server {
namespace {

using ::testing::HasSubstr;

CompilePool::Options Opts(int threads, int queued, int per_tenant) {
  CompilePool::Options o;
  o.threads = threads;
  o.max_queued = queued;
  o.max_queued_per_tenant = per_tenant;
  o.small_cost = 100;
  return o;
}

TEST(CompilePoolTest, RunsTasksOffTheCallersThread) {
  CompilePool pool(Opts(2, 4, 4));
  absl::Notification done;
  std::thread::id ran_on;
  ASSERT_TRUE(pool.Submit("t", 1,
                          [&](absl::Status s) {
                            EXPECT_TRUE(s.ok());
                            ran_on = std::this_thread::get_id();
                            done.Notify();
                          })
                  .ok());
  done.WaitForNotification();
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST(CompilePoolTest, FullQueueIsResourceExhausted) {
  CompilePool pool(Opts(1, 2, 8));
  absl::Notification release, started;
  ASSERT_TRUE(pool.Submit("t", 1000,
                          [&](absl::Status) {
                            started.Notify();
                            release.WaitForNotification();
                          })
                  .ok());
  started.WaitForNotification();
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.Submit("t", 1000, [&](absl::Status) { ++ran; }).ok());
  ASSERT_TRUE(pool.Submit("t", 1000, [&](absl::Status) { ++ran; }).ok());
  const absl::Status s = pool.Submit("t", 1000, [&](absl::Status) { ++ran; });
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "compile queue full: 2 models are waiting to be compiled, the limit is 2 "
            "(--compile_queue); retry later, or send a model the server has compiled before");
  release.Notify();
  pool.Stop();
  EXPECT_EQ(ran.load(), 2);
}

TEST(CompilePoolTest, PerTenantShareOfTheQueue) {
  CompilePool pool(Opts(1, 10, 2));
  absl::Notification release, started;
  ASSERT_TRUE(pool.Submit("a", 1000,
                          [&](absl::Status) {
                            started.Notify();
                            release.WaitForNotification();
                          })
                  .ok());
  started.WaitForNotification();
  ASSERT_TRUE(pool.Submit("a", 1000, [](absl::Status) {}).ok());
  ASSERT_TRUE(pool.Submit("a", 1000, [](absl::Status) {}).ok());
  const absl::Status s = pool.Submit("a", 1000, [](absl::Status) {});
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("compile queue full for tenant 'a': 2 of its models are waiting"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("(--tenant_compile_queue)"));
  EXPECT_TRUE(pool.Submit("b", 1000, [](absl::Status) {}).ok());
  release.Notify();
}

TEST(CompilePoolTest, SmallTasksDoNotWaitBehindBigOnes) {
  CompilePool pool(Opts(2, 16, 16));
  absl::Notification release;
  std::atomic<int> big_started{0};
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(pool.Submit("t", 1 << 20,
                            [&](absl::Status) {
                              ++big_started;
                              release.WaitForNotification();
                            })
                    .ok());
  }
  absl::Notification small_done;
  const absl::Time start = absl::Now();
  ASSERT_TRUE(pool.Submit("t", 10, [&](absl::Status) { small_done.Notify(); }).ok());
  EXPECT_TRUE(small_done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  std::printf("small task behind 4 blocked big ones ran after %.3f ms\n",
              absl::ToDoubleMilliseconds(absl::Now() - start));
  EXPECT_LE(big_started.load(), 1);  // the reserved thread never takes a big one
  release.Notify();
}

TEST(CompilePoolTest, StopCallsWaitingTasksWithUnavailable) {
  CompilePool pool(Opts(1, 4, 4));
  absl::Notification release, started;
  ASSERT_TRUE(pool.Submit("t", 1,
                          [&](absl::Status) {
                            started.Notify();
                            release.WaitForNotification();
                          })
                  .ok());
  started.WaitForNotification();
  absl::Status got;
  ASSERT_TRUE(pool.Submit("t", 1, [&](absl::Status s) { got = s; }).ok());
  std::thread stopper([&] { pool.Stop(); });
  // The only thread is busy, so only Stop() can empty the queue.
  while (pool.queued() > 0) absl::SleepFor(absl::Milliseconds(1));
  release.Notify();
  stopper.join();
  EXPECT_EQ(got.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(pool.Submit("t", 1, [](absl::Status) {}).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace ensolve::server
