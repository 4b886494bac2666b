// --max_connection_age: the server closes (GOAWAY) connections older than the age so clients
// reconnect and resolve again, without cutting the calls running on them.
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

TEST(ConnectionAge, LongCallsOutliveTheAgeAndLaterCallsReconnect) {
  server::ServerConfig c = TestConfig();
  c.max_connection_age = absl::Milliseconds(100);
  TestServer t = StartServer(c);
  // A call several times longer than the age finishes (the grace is unlimited by default).
  const absl::Time start = absl::Now();
  absl::StatusOr<SolveResult> r = t.client->Solve(LorenzRequest(60000, 300));
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->summary.retcode_counts().at("success"), 60000);
  EXPECT_GT(took, absl::Milliseconds(300)) << "the call should outlast the connection's age";
  // The same client keeps working across the GOAWAYs: it opens new connections.
  for (int i = 0; i < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(150));
    ASSERT_TRUE(t.client->Solve(LorenzRequest(10, 1)).ok()) << "call " << i;
  }
}

// With a bounded grace the server does cut an aged connection's calls: the age is applied.
TEST(ConnectionAge, BoundedGraceCutsLongCalls) {
  server::ServerConfig c = TestConfig();
  c.max_connection_age = absl::Milliseconds(100);
  c.max_connection_age_grace = absl::Milliseconds(100);
  TestServer t = StartServer(c);
  absl::StatusOr<SolveResult> r = t.client->Solve(LorenzRequest(60000, 300));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

}  // namespace
}  // namespace ensolve::testing
