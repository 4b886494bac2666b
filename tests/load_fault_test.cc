// Load and faults together (issue 11, "Must show"): a real ensolved process on two CPU
// workers with injected batch failures, 16 concurrent clients of 4 tenants sending mixed
// requests (some abandoning their stream mid-way), CLI clients SIGKILLed mid-stream, a
// detached job per tenant whose watch is cut and re-attached, and SIGTERM while the load
// goes on. Afterwards: every call that ended OK delivered each trajectory exactly once,
// with the inputs it sent and the states a fault-free server computes (so no tenant saw
// another's data); every other call ended with an error status; the server's memory stayed
// under its budget; it exited 0.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/testing/lorenz.h"
#include "engine/testing/seed.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

constexpr int kTenants = 4;
constexpr int kClients = 16;
constexpr int64_t kBudget = int64_t{256} << 20;

// A request of tenant `tenant`: per-trajectory parameters from a box of its own (rho in
// [10 t, 10 t + 5]), sent back with the results (return_inputs).
v1::SolveRequest MixedRequest(std::mt19937_64& rng, int tenant) {
  std::uniform_int_distribution<int64_t> n(1, 3000);
  std::uniform_real_distribution<double> u(0, 1);
  const int64_t count = u(rng) < 0.1 ? 20000 : n(rng);
  v1::SolveRequest req;
  req.set_model_source(kLorenz);
  req.set_trajectories(count);
  req.set_batch_size(std::uniform_int_distribution<int64_t>(100, 2000)(rng));
  req.set_return_inputs(true);
  req.mutable_options()->set_t1(0.5 + 2.5 * u(rng));
  if (u(rng) < 0.5) {
    v1::SaveAt* s = req.mutable_options()->mutable_saveat();
    s->mutable_range()->set_stop(req.options().t1());
    s->mutable_range()->set_step(req.options().t1() / 10);
  }
  std::vector<double> p(static_cast<size_t>(count) * 3);
  for (int64_t i = 0; i < count; ++i) {
    p[i * 3] = 10 * u(rng);
    p[i * 3 + 1] = 10 * tenant + 5 * u(rng);
    p[i * 3 + 2] = 8.0 / 3 * u(rng);
  }
  v1::Tensor* t = req.mutable_params()->mutable_values();
  t->set_dtype(v1::DTYPE_FLOAT64);
  t->add_shape(count);
  t->add_shape(3);
  t->set_data(p.data(), p.size() * sizeof(double));
  return req;
}

std::vector<double> SentParams(const v1::SolveRequest& req) {
  const std::string& d = req.params().values().data();
  std::vector<double> p(d.size() / sizeof(double));
  std::memcpy(p.data(), d.data(), d.size());
  return p;
}

struct Tally {
  std::mutex mu;
  int ok = 0, failed = 0, abandoned = 0, checked = 0;
  std::vector<std::string> failures;  // codes and messages of failed calls
  std::vector<std::string> errors;    // broken guarantees (the test fails on any)
  void Error(std::string e) {
    std::lock_guard<std::mutex> l(mu);
    errors.push_back(std::move(e));
  }
};

TEST(LoadAndFaults, SixteenClientsOfFourTenantsWithKillsFaultsCutWatchesAndSigterm) {
  const uint64_t seed = TestSeed("LoadAndFaults");
  const std::string dir = TempDir();
  std::ofstream(dir + "/tokens") << "tok0 tenant0\ntok1 tenant1 weight=2\ntok2 tenant2\n"
                                 << "tok3 tenant3 priority=0\n";
  // Device 0 fails its 8th batch, device 1 its 14th and 15th: retried on the other device.
  setenv("ENSOLVE_INJECT_FAULTS", "0:7:1,1:13:2", 1);
  auto daemon = Subprocess::Start(
      {ENSOLVED_PATH, "--address=127.0.0.1:0", "--port_file=" + dir + "/port", "--metrics_port=0",
       "--metrics_port_file=" + dir + "/metrics", "--devices=cpu:2", "--threads=1",
       "--tokens_file=" + dir + "/tokens", "--memory_budget=" + std::to_string(kBudget),
       "--drain_deadline=60s", "--batch_slice=200ms"},
      dir + "/ensolved.log");
  unsetenv("ENSOLVE_INJECT_FAULTS");
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  absl::StatusOr<int> port = ReadPortFile(dir + "/port", absl::Seconds(10));
  absl::StatusOr<int> metrics_port = ReadPortFile(dir + "/metrics", absl::Seconds(10));
  ASSERT_TRUE(port.ok() && metrics_port.ok()) << ReadFile(dir + "/ensolved.log");
  const std::string target = absl::StrCat("127.0.0.1:", *port);
  TestServer reference = StartServer();  // fault-free, in-process: the expected states

  Tally tally;
  std::atomic<bool> stop{false}, terminated{false};
  std::atomic<double> max_rss{0}, max_reserved{0}, retries{0};
  std::thread monitor([&] {
    while (!stop.load()) {
      absl::StatusOr<std::string> m = HttpGet(*metrics_port, "/metrics");
      if (m.ok()) {
        max_rss = std::max(max_rss.load(), MetricValue(*m, "process_resident_memory_bytes", {}));
        max_reserved =
            std::max(max_reserved.load(), MetricValue(*m, "ensolve_memory_reserved_bytes", {}));
        retries = MetricValue(*m, "ensolve_batch_retries_total", {});
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  });

  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      const int tenant = c % kTenants;
      Client::Options o;
      o.bearer_token = absl::StrCat("tok", tenant);
      auto client = Client::Connect(target, o);
      std::mt19937_64 rng(seed * 1000 + c);
      while (!stop.load()) {
        const v1::SolveRequest req = MixedRequest(rng, tenant);
        const bool abandon = std::uniform_real_distribution<double>(0, 1)(rng) < 0.2;
        ResultAssembler a;
        int messages = 0;
        absl::Status s = client->SolveStream(req, [&](const v1::SolveResponse& r) {
          if (abandon && ++messages == 2) return absl::CancelledError("abandoned");
          return a.Add(r);
        });
        std::lock_guard<std::mutex> l(tally.mu);
        if (abandon && s.message() == "abandoned") {
          ++tally.abandoned;
          continue;
        }
        if (!s.ok()) {
          ++tally.failed;
          tally.failures.push_back(s.ToString());
          if (!terminated.load() && s.code() != absl::StatusCode::kInternal) {
            tally.errors.push_back("before SIGTERM: " + s.ToString());
          }
          if (terminated.load()) return;  // the server is going away
          continue;
        }
        absl::StatusOr<SolveResult> r = a.Take();  // DATA_LOSS on a repeat or a gap
        if (!r.ok()) {
          tally.errors.push_back("incomplete OK stream: " + r.status().ToString());
          continue;
        }
        ++tally.ok;
        if (r->params != SentParams(req)) {
          tally.errors.push_back(absl::StrCat("tenant", tenant, " got parameters it did not send"));
        }
        if (req.trajectories() <= 1000 && tally.checked < 400) {
          ++tally.checked;
          absl::StatusOr<SolveResult> expected = reference.client->Solve(req);
          if (!expected.ok() || expected->states != r->states ||
              expected->retcodes != r->retcodes) {
            tally.errors.push_back(
                absl::StrCat("tenant", tenant, ": states differ from a ", "fault-free server's"));
          }
        }
      }
    });
  }

  // CLI clients killed mid-stream (a real client process dying, connection and all).
  const std::string model = dir + "/lorenz.ode";
  std::ofstream(model) << kLorenz;
  int killed = 0;
  for (int k = 0; k < 3; ++k) {
    auto cli = Subprocess::Start(
        {ENSOLVE_CLI_PATH, "--server=" + target, absl::StrCat("--token=tok", k), "solve", model,
         "--n=200000", "--t1=20", "--saveat=0:0.5:20", "--batch_size=2000",
         "--sample=uniform:seed=3:lo=0,0,0:hi=10,28,2.6", "--o=" + dir + "/out.npz"},
        absl::StrCat(dir, "/cli", k, ".log"));
    ASSERT_TRUE(cli.ok()) << cli.status();
    absl::SleepFor(absl::Milliseconds(400));
    (*cli)->Signal(SIGKILL);
    EXPECT_TRUE((*cli)->Wait(absl::Seconds(10)).ok());
    ++killed;
  }

  // A detached job per tenant: its watch is cut after 3 messages and re-attached.
  int reattached = 0;
  for (int tenant = 0; tenant < kTenants; ++tenant) {
    std::mt19937_64 rng(seed + 77 + tenant);
    v1::SolveRequest req = MixedRequest(rng, tenant);
    req.set_trajectories(5000);
    req.set_batch_size(500);
    {
      std::vector<double> p(5000 * 3);
      for (size_t i = 0; i < p.size(); ++i) p[i] = (i % 3 == 1 ? 10 * tenant : 0) + (i % 7);
      req.mutable_params()->mutable_values()->set_data(p.data(), p.size() * sizeof(double));
      req.mutable_params()->mutable_values()->set_shape(0, 5000);
    }
    Client::Options o;
    o.bearer_token = absl::StrCat("tok", tenant);
    auto client = Client::Connect(target, o);
    absl::StatusOr<v1::SolveAccepted> acc = client->SubmitJob(req);
    ASSERT_TRUE(acc.ok()) << acc.status();
    ResultAssembler a;
    {
      auto stub = RawStub(target);
      grpc::ClientContext ctx;
      Authorize(&ctx, o.bearer_token);
      v1::WatchJobRequest w;
      w.set_job_id(acc->job_id());
      auto reader = stub->WatchJob(&ctx, w);
      v1::SolveResponse r;
      for (int i = 0; i < 3 && reader->Read(&r); ++i) ASSERT_TRUE(a.Add(r).ok());
      ctx.TryCancel();
      reader->Finish();
    }
    absl::Status s = client->WatchJob(
        acc->job_id(), [&](const v1::SolveResponse& r) { return a.Add(r); }, 3);
    if (s.code() == absl::StatusCode::kInternal) continue;  // a batch failed twice: reported
    ASSERT_TRUE(s.ok()) << s;
    absl::StatusOr<SolveResult> got = a.Take();
    ASSERT_TRUE(got.ok()) << got.status();
    absl::StatusOr<SolveResult> expected = reference.client->Solve(req);
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(got->states, expected->states) << "tenant" << tenant;
    EXPECT_EQ(got->params, SentParams(req));
    ++reattached;
  }

  absl::SleepFor(absl::Seconds(2));  // more load, then SIGTERM while it goes on
  terminated = true;
  (*daemon)->Signal(SIGTERM);
  absl::StatusOr<int> exit = (*daemon)->Wait(absl::Seconds(90));
  stop = true;
  for (auto& t : clients) t.join();
  monitor.join();

  const std::string log = ReadFile(dir + "/ensolved.log");
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(*exit, 0) << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  EXPECT_NE(log.find("event=faults_injected"), std::string::npos);
  std::printf(
      "load: %d OK calls (%d checked against a fault-free server), %d failed, %d abandoned "
      "mid-stream, %d CLI clients SIGKILLed, %d detached jobs re-attached after a cut watch, "
      "%.0f batches retried on the other device; peak RSS %.1f MiB, peak memory reserved "
      "%.1f MiB of a %.0f MiB budget; exit %d after SIGTERM\n",
      tally.ok, tally.checked, tally.failed, tally.abandoned, killed, reattached, retries.load(),
      max_rss.load() / (1 << 20), max_reserved.load() / (1 << 20),
      static_cast<double>(kBudget) / (1 << 20), exit.value_or(-1));
  std::map<std::string, int> why;
  for (const std::string& f : tally.failures) ++why[f];
  for (const auto& [f, n] : why) std::printf("  %d failed calls: %s\n", n, f.c_str());
  for (const std::string& e : tally.errors) ADD_FAILURE() << e;
  EXPECT_GT(tally.ok, 40);
  EXPECT_GT(tally.abandoned, 0);
  EXPECT_GE(retries.load(), 1);
  EXPECT_LT(max_rss.load(), kBudget);
  EXPECT_LE(max_reserved.load(), kBudget);
}

}  // namespace
}  // namespace ensolve::testing
