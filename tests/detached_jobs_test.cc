// Detached jobs through a real ensolved on loopback (issue 11, item 4): SubmitJob, WatchJob
// from any offset (re-attached after a cut connection, nothing lost or repeated), pauses at
// the kept-bytes bound, CancelJob, ListJobs, request_id retries, tenants, expiry, errors.
#include <fstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/job_support.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

// Lorenz with 11 save points, in batches of `batch`: a stream of many chunks.
v1::SolveRequest Saved(int64_t n, int64_t batch, const std::string& request_id = "") {
  v1::SolveRequest req = LorenzRequest(n, 5);
  req.set_batch_size(batch);
  v1::SaveAt* s = req.mutable_options()->mutable_saveat();
  s->mutable_range()->set_start(0);
  s->mutable_range()->set_stop(5);
  s->mutable_range()->set_step(0.5);
  req.set_request_id(request_id);
  return req;
}

grpc::Status WatchRaw(const std::string& target, const std::string& token, const std::string& id,
                      int64_t from, std::vector<v1::SolveResponse>* out, int64_t stop_after = -1) {
  auto stub = RawStub(target);
  grpc::ClientContext ctx;
  Authorize(&ctx, token);
  v1::WatchJobRequest req;
  req.set_job_id(id);
  req.set_from_offset(from);
  auto reader = stub->WatchJob(&ctx, req);
  v1::SolveResponse r;
  while (reader->Read(&r)) {
    out->push_back(r);
    if (static_cast<int64_t>(out->size()) == stop_after) {
      ctx.TryCancel();  // the connection is cut mid-stream
      break;
    }
  }
  return reader->Finish();
}

TEST(DetachedJobs, AJobRunsWithoutItsClientAndItsWatchEqualsItsSolveBitwise) {
  TestServer t = StartServer();
  const v1::SolveRequest req = Saved(5000, 700);
  absl::StatusOr<SolveResult> solved = t.client->Solve(req);
  ASSERT_TRUE(solved.ok()) << solved.status();

  absl::StatusOr<v1::SolveAccepted> accepted = t.client->SubmitJob(req);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->job_id().size(), 32u);
  EXPECT_EQ(accepted->trajectories(), 5000);
  EXPECT_EQ(accepted->batches(), 8);
  // Nobody watches while it runs.
  const v1::JobInfo done = WaitFor(*t.client, accepted->job_id(), [](const v1::JobInfo& j) {
    return j.state() == v1::JobInfo::STATE_SUCCEEDED;
  });
  EXPECT_EQ(done.first_offset(), 0);
  EXPECT_EQ(done.end_offset(), 1 + 8 + 1);  // accepted, a chunk per batch, summary
  EXPECT_GT(done.kept_bytes(), 5000 * 11 * 3 * 8);
  EXPECT_GT(done.expires_in_seconds(), 3000);

  for (int pass = 0; pass < 2; ++pass) {  // a watch from 0 acknowledges nothing
    absl::StatusOr<SolveResult> watched = t.client->WatchJobResult(accepted->job_id());
    ASSERT_TRUE(watched.ok()) << watched.status();
    EXPECT_EQ(watched->accepted.job_id(), accepted->job_id());
    ExpectSameResult(*solved, *watched);
  }
}

TEST(DetachedJobs, AReattachedWatchLosesAndRepeatsNothingAndAcknowledgesWhatCameBefore) {
  TestServer t = StartServer();
  const v1::SolveRequest req = Saved(20000, 1000);
  absl::StatusOr<SolveResult> solved = t.client->Solve(req);
  ASSERT_TRUE(solved.ok()) << solved.status();
  absl::StatusOr<v1::SolveAccepted> accepted = t.client->SubmitJob(req);
  ASSERT_TRUE(accepted.ok()) << accepted.status();

  // The first watch is cut after 5 messages, while the job may still run.
  std::vector<v1::SolveResponse> first;
  const grpc::Status cut = WatchRaw(t.server->target(), "", accepted->job_id(), 0, &first, 5);
  EXPECT_EQ(cut.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_EQ(first.size(), 5u);
  ASSERT_TRUE(first[0].has_accepted());

  ResultAssembler assembler;
  for (const auto& r : first) ASSERT_TRUE(assembler.Add(r).ok());
  int64_t reached = 0;
  absl::Status s = t.client->WatchJob(
      accepted->job_id(), [&](const v1::SolveResponse& r) { return assembler.Add(r); }, 5, {},
      &reached);
  ASSERT_TRUE(s.ok()) << s;
  absl::StatusOr<SolveResult> joined = assembler.Take();  // DATA_LOSS on a repeat or a gap
  ASSERT_TRUE(joined.ok()) << joined.status();
  ExpectSameResult(*solved, *joined);

  // Watching from 5 acknowledged messages 0..4: they are gone.
  std::vector<v1::SolveResponse> again;
  const grpc::Status gone = WatchRaw(t.server->target(), "", accepted->job_id(), 3, &again);
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_NE(gone.error_message().find("before 5"), std::string::npos) << gone.error_message();
  const grpc::Status past =
      WatchRaw(t.server->target(), "", accepted->job_id(), reached + 1, &again);
  EXPECT_EQ(past.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_NE(past.error_message().find("is past the"), std::string::npos) << past.error_message();
  // From the end: nothing more, the job's OK.
  const grpc::Status end = WatchRaw(t.server->target(), "", accepted->job_id(), reached, &again);
  EXPECT_TRUE(end.ok()) << end.error_message();
  EXPECT_TRUE(again.empty());
}

TEST(DetachedJobs, AJobPausesAtItsKeptBytesUntilAWatchAcknowledges) {
  server::ServerConfig c = TestConfig();
  c.max_chunk_bytes = 64 << 10;  // messages of about 70 KiB; a read slot of 1.1 MiB
  c.job_kept_bytes = 2 << 20;
  TestServer t = StartServer(c);
  // 4,000 trajectories x 11 save points x 3 states x 8 bytes: 1 MiB... made 10x by saving 101.
  v1::SolveRequest req = Saved(4000, 200);
  req.mutable_options()->mutable_saveat()->mutable_range()->set_step(0.05);
  absl::StatusOr<SolveResult> solved = t.client->Solve(req);
  ASSERT_TRUE(solved.ok()) << solved.status();
  auto solved_so_far = [&] {
    absl::StatusOr<std::string> m = HttpGet(t.server->metrics_port(), "/metrics");
    return m.ok() ? MetricValue(*m, "ensolve_trajectories_solved_total", {}) : -1;
  };
  const double before = solved_so_far();

  absl::StatusOr<v1::SolveAccepted> accepted = t.client->SubmitJob(req);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  const v1::JobInfo paused = WaitFor(*t.client, accepted->job_id(), [](const v1::JobInfo& j) {
    return j.state() == v1::JobInfo::STATE_PAUSED;
  });
  EXPECT_LE(paused.kept_bytes(), 2 << 20);
  absl::SleepFor(absl::Milliseconds(500));
  const double ran = solved_so_far() - before;
  absl::SleepFor(absl::Milliseconds(500));
  // Paused: no further batch runs (those the Solve buffers are done), and far from all.
  EXPECT_EQ(solved_so_far() - before, ran);
  EXPECT_LT(ran, 4000 / 2) << "trajectories solved while paused";
  std::printf("paused with %lld bytes kept, %lld messages, %.0f of 4000 trajectories solved\n",
              static_cast<long long>(paused.kept_bytes()),
              static_cast<long long>(paused.end_offset()), ran);

  // The client's watch goes on through every pause.
  absl::StatusOr<SolveResult> watched = t.client->WatchJobResult(accepted->job_id());
  ASSERT_TRUE(watched.ok()) << watched.status();
  ExpectSameResult(*solved, *watched);
  absl::StatusOr<std::string> m = HttpGet(t.server->metrics_port(), "/metrics");
  ASSERT_TRUE(m.ok());
  const double watches =
      MetricValue(*m, "ensolve_requests_total", {{"method", "WatchJob"}, {"code", "ok"}});
  std::printf("%.0f watch calls\n", watches);
  EXPECT_GT(watches, 3);
}

TEST(DetachedJobs, ARequestIdAttachesSolveAndSubmitToTheSameJob) {
  TestServer t = StartServer();
  const v1::SolveRequest req = Saved(3000, 500, "run-42");
  absl::StatusOr<v1::SolveAccepted> a = t.client->SubmitJob(req);
  absl::StatusOr<v1::SolveAccepted> b = t.client->SubmitJob(req);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
  EXPECT_EQ(a->job_id(), b->job_id());
  absl::StatusOr<SolveResult> attached = t.client->Solve(req);  // the same job, from 0
  ASSERT_TRUE(attached.ok()) << attached.status();
  EXPECT_EQ(attached->accepted.job_id(), a->job_id());
  absl::StatusOr<SolveResult> watched = t.client->WatchJobResult(a->job_id());
  ASSERT_TRUE(watched.ok()) << watched.status();
  ExpectSameResult(*attached, *watched);
  absl::StatusOr<std::vector<v1::JobInfo>> jobs = t.client->ListJobs();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].request_id(), "run-42");
}

TEST(DetachedJobs, AnotherTenantsJobIsNotFound) {
  server::ServerConfig c = TestConfig();
  c.tokens_file = TempDir() + "/tokens";
  std::ofstream(c.tokens_file) << "token-a alice\ntoken-b bob\n";
  TestServer t = StartServer(c);
  Client::Options ao, bo;
  ao.bearer_token = "token-a";
  bo.bearer_token = "token-b";
  auto alice = Client::Connect(t.server->target(), ao);
  auto bob = Client::Connect(t.server->target(), bo);
  absl::StatusOr<v1::SolveAccepted> a = alice->SubmitJob(Saved(1000, 500, "same-id"));
  ASSERT_TRUE(a.ok()) << a.status();

  std::vector<v1::SolveResponse> seen;
  const grpc::Status w = WatchRaw(t.server->target(), "token-b", a->job_id(), 0, &seen);
  EXPECT_EQ(w.error_code(), grpc::StatusCode::NOT_FOUND) << w.error_message();
  EXPECT_TRUE(seen.empty());
  absl::StatusOr<v1::JobInfo> cancel = bob->CancelJob(a->job_id());
  EXPECT_EQ(cancel.status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<v1::JobInfo>> bobs = bob->ListJobs();
  ASSERT_TRUE(bobs.ok());
  EXPECT_TRUE(bobs->empty());
  // Bob's own request of the same request_id is his own job.
  absl::StatusOr<v1::SolveAccepted> b = bob->SubmitJob(Saved(1000, 500, "same-id"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE(a->job_id(), b->job_id());
  absl::StatusOr<std::vector<v1::JobInfo>> alices = alice->ListJobs();
  ASSERT_TRUE(alices.ok());
  ASSERT_EQ(alices->size(), 1u);
  EXPECT_EQ((*alices)[0].job_id(), a->job_id());
  // A tenant without the capability: PERMISSION_DENIED (tenant.h).
  std::ofstream(c.tokens_file, std::ios::app) << "token-c carol caps=solve\n";
  ASSERT_TRUE(t.server->ReloadTokens().ok());
  Client::Options co;
  co.bearer_token = "token-c";
  auto carol = Client::Connect(t.server->target(), co);
  const absl::Status denied = carol->SubmitJob(Saved(10, 10)).status();
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied) << denied;
  EXPECT_NE(denied.message().find("needs the capability 'detached'"), std::string::npos) << denied;
  EXPECT_EQ(carol->ListJobs().status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(carol->Solve(Saved(10, 10)).ok());
  // No token: UNAUTHENTICATED, as for Solve.
  auto nobody = Client::Connect(t.server->target());
  EXPECT_EQ(nobody->SubmitJob(Saved(10, 10)).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(nobody->ListJobs().status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(DetachedJobs, CancelStopsTheJobAndItsWatchEndsCancelled) {
  TestServer t = StartServer();
  absl::StatusOr<v1::SolveAccepted> a = t.client->SubmitJob(Endless());
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<v1::JobInfo> info = t.client->CancelJob(a->job_id());
  ASSERT_TRUE(info.ok()) << info.status();
  const v1::JobInfo done = WaitFor(*t.client, a->job_id(), [](const v1::JobInfo& j) {
    return j.state() == v1::JobInfo::STATE_CANCELLED;
  });
  EXPECT_EQ(done.status_code(), static_cast<int>(grpc::StatusCode::CANCELLED));
  std::vector<v1::SolveResponse> seen;
  const grpc::Status w = WatchRaw(t.server->target(), "", a->job_id(), 0, &seen);
  EXPECT_EQ(w.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_NE(w.error_message().find("CancelJob"), std::string::npos) << w.error_message();
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(seen[0].has_accepted());
  // Cancelling an ended job changes nothing.
  absl::StatusOr<v1::JobInfo> again = t.client->CancelJob(a->job_id());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state(), v1::JobInfo::STATE_CANCELLED);
}

TEST(DetachedJobs, BadInputsGetTheirStatusAndNameTheField) {
  server::ServerConfig c = TestConfig();
  c.max_kept_jobs = 2;
  TestServer t = StartServer(c);
  v1::SolveRequest bad = Saved(10, 10);
  bad.set_model_source("state x\nx' = y\n");
  absl::StatusOr<v1::SolveAccepted> r = t.client->SubmitJob(bad);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status();
  EXPECT_TRUE(t.client->ListJobs()->empty());  // a refused job is not kept

  std::vector<v1::SolveResponse> seen;
  grpc::Status w = WatchRaw(t.server->target(), "", "0123456789abcdef0123456789abcdef", 0, &seen);
  EXPECT_EQ(w.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(w.error_message().find("job_id"), std::string::npos) << w.error_message();
  absl::StatusOr<v1::SolveAccepted> a = t.client->SubmitJob(Saved(10, 10));
  ASSERT_TRUE(a.ok()) << a.status();
  w = WatchRaw(t.server->target(), "", a->job_id(), -1, &seen);
  EXPECT_EQ(w.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(w.error_message().find("from_offset"), std::string::npos) << w.error_message();

  ASSERT_TRUE(t.client->SubmitJob(Saved(10, 10)).ok());
  r = t.client->SubmitJob(Saved(10, 10));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("--max_kept_jobs"), std::string::npos) << r.status();
}

TEST(DetachedJobs, AnEndedJobExpiresAndGivesBackItsMemory) {
  server::ServerConfig c = TestConfig();
  c.job_ttl = absl::Milliseconds(300);
  TestServer t = StartServer(c);
  absl::StatusOr<v1::SolveAccepted> a = t.client->SubmitJob(Saved(2000, 500));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(t.client->WatchJobResult(a->job_id()).ok());
  EXPECT_GT(t.server->context().memory().reserved(), 2000 * 11 * 3 * 8);  // kept
  absl::SleepFor(absl::Milliseconds(400));
  absl::StatusOr<std::vector<v1::JobInfo>> jobs = t.client->ListJobs();  // expires it
  ASSERT_TRUE(jobs.ok());
  EXPECT_TRUE(jobs->empty());
  EXPECT_EQ(t.client->CancelJob(a->job_id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(t.server->context().memory().reserved(), 0);
}

TEST(DetachedJobs, AServerWithRunningJobsStopsPromptly) {
  absl::Time stopped;
  {
    TestServer t = StartServer();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(t.client->SubmitJob(Endless()).ok());
    absl::SleepFor(absl::Milliseconds(300));
    stopped = absl::Now();
  }
  EXPECT_LT(absl::Now() - stopped, absl::Seconds(10));
}

}  // namespace
}  // namespace ensolve::testing
