// Every bad request gets the right status code and a message that names the problem.
#include <map>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/tensor.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class ServiceErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server::ServerConfig c = TestConfig();
    c.max_trajectories = 1000000;
    c.max_save_points = 1000;
    c.max_output_bytes = 100 << 20;
    c.max_queued_trajectories = 1500000;
    server_ = new TestServer(StartServer(c));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  // Runs `req` and returns its status (a rejected request never gets a message).
  static absl::Status Run(const v1::SolveRequest& req) {
    int messages = 0;
    absl::Status s = server_->client->SolveStream(req, [&](const v1::SolveResponse&) {
      ++messages;
      return absl::OkStatus();
    });
    if (!s.ok()) {
      EXPECT_EQ(messages, 0) << "a rejected request streamed messages";
    }
    return s;
  }
  static TestServer* server_;
};
TestServer* ServiceErrors::server_ = nullptr;

MATCHER_P2(IsError, code, substr, "") {
  *result_listener << "status " << arg;
  return arg.code() == code && absl::StrContains(arg.message(), substr);
}

TEST_F(ServiceErrors, BadModelTextNamesLineAndColumn) {
  v1::SolveRequest req = LorenzRequest(10, 1);
  req.set_model_source("state x = 1\nx' = -k*x +\n");
  const absl::Status s = Run(req);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), AllOf(HasSubstr("model_source: "), HasSubstr("line 2")));
  EXPECT_THAT(std::string(s.message()), HasSubstr("column"));

  req.set_model_source("state x = 1\nx' = -rhoo*x\n");
  EXPECT_THAT(std::string(Run(req).message()), HasSubstr("rhoo"));

  // CompileModel reports the same way.
  auto m = server_->client->CompileModel("state x = 1\nx' = x +* 2\n");
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("line 2, column"));
}

TEST_F(ServiceErrors, ShapeMismatchNamesFieldAndExpectedShape) {
  v1::SolveRequest req = LorenzRequest(10, 1);
  *req.mutable_u0()->mutable_values() = Float64Tensor({1, 2, 3, 4}, {2, 2});
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kInvalidArgument, "u0.values: shape [2, 2]"));
  EXPECT_THAT(std::string(Run(req).message()), HasSubstr("x, y, z"));

  // Per-trajectory rows that disagree with trajectories.
  req = LorenzRequest(10, 1);
  *req.mutable_u0()->mutable_values() = Float64Tensor(std::vector<double>(12, 1.0), {4, 3});
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kInvalidArgument, "u0.values: 4 rows"));

  // Bytes that do not match the shape.
  req = LorenzRequest(10, 1);
  v1::Tensor t = Float64Tensor({1, 2, 3}, {3});
  t.mutable_data()->pop_back();
  *req.mutable_u0()->mutable_values() = t;
  EXPECT_THAT(Run(req),
              IsError(absl::StatusCode::kInvalidArgument, "u0.values: data has 23 bytes"));

  // A sampler with the wrong number of dimensions.
  req = LorenzRequest(10, 1);
  req.mutable_params()->mutable_sampler()->mutable_uniform()->mutable_hi()->RemoveLast();
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kInvalidArgument,
                                "params.sampler.uniform.hi: has 2 values"));
}

TEST_F(ServiceErrors, BadOptionsNameTheOption) {
  v1::SolveRequest req = LorenzRequest(10, 1);
  req.mutable_options()->set_algorithm("rk45");
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kInvalidArgument,
                                "options.algorithm: unknown algorithm 'rk45'"));

  req = LorenzRequest(10, 1);
  req.mutable_options()->set_t0(1);
  req.mutable_options()->set_t1(1);
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kInvalidArgument, "options.t1: must differ"));

  req = LorenzRequest(10, 1);
  req.mutable_options()->set_algorithm("euler");  // fixed step without dt
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kInvalidArgument, "options.dt"));

  req = LorenzRequest(10, 1);
  req.mutable_options()->mutable_saveat()->add_times(2.0);  // beyond t1
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kInvalidArgument, "options.saveat[0]"));

  req = LorenzRequest(0, 1);
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kInvalidArgument, "trajectories: must be > 0"));

  req = LorenzRequest(10, 1);
  req.clear_model_source();
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kInvalidArgument,
                                "model_source, model_id or raw_kernel: one of them is required"));

  req = LorenzRequest(10, 1);
  req.set_model_id("feedface");
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kNotFound, "model_id: 'feedface'"));
}

TEST_F(ServiceErrors, LimitsAreResourceExhaustedNamingTheLimit) {
  v1::SolveRequest req = LorenzRequest(2000000, 1);
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kResourceExhausted, "--max_trajectories"));

  req = LorenzRequest(10, 10);
  req.mutable_options()->mutable_saveat()->mutable_range()->set_step(0.001);
  req.mutable_options()->mutable_saveat()->mutable_range()->set_stop(10);
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kResourceExhausted, "--max_save_points"));

  // 600,000 x 1000 save points x 3 states x 8 bytes = 14.4 GB > 100 MiB.
  req = LorenzRequest(600000, 10);
  req.mutable_options()->mutable_saveat()->mutable_range()->set_step(0.01);
  req.mutable_options()->mutable_saveat()->mutable_range()->set_stop(9.99);
  EXPECT_THAT(Run(req), IsError(absl::StatusCode::kResourceExhausted, "--max_output_bytes"));

  // Model limits are the model's problem: INVALID_ARGUMENT naming the limit.
  req = LorenzRequest(10, 1);
  req.set_model_source(std::string(300 * 1024, '#'));
  const absl::Status s = Run(req);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("model_source: "));

  // Nothing was admitted by any of the above.
  auto metrics = HttpGet(server_->server->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_EQ(MetricValue(*metrics, "ensolve_requests_total",
                        {{"method", "Solve"}, {"code", "resource_exhausted"}}),
            3);
}

// Bytes that are not a protobuf message: gRPC itself would answer UNIMPLEMENTED with no
// message; the server says INVALID_ARGUMENT, names the message expected, and counts it.
TEST_F(ServiceErrors, UndecodableRequestIsInvalidArgumentAndCounted) {
  auto channel = grpc::CreateChannel(server_->server->target(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  // 0xff 0xff ...: a field tag whose varint never ends.
  const std::string garbage(16, '\xff');
  auto before = HttpGet(server_->server->metrics_port(), "/metrics");
  ASSERT_TRUE(before.ok()) << before.status();
  struct Case {
    const char* method;
    const char* message;
    bool streaming;
  };
  for (const Case& c : {Case{"Solve", "ensolve.v1.SolveRequest", true},
                        Case{"CompileModel", "ensolve.v1.CompileModelRequest", false},
                        Case{"WatchJob", "ensolve.v1.WatchJobRequest", true}}) {
    SCOPED_TRACE(c.method);
    grpc::Slice slice(garbage);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext ctx;
    grpc::CompletionQueue cq;
    const std::string path = absl::StrCat("/ensolve.v1.EnsembleSolver/", c.method);
    grpc::Status status;
    if (c.streaming) {
      // A server-streaming call: write the request, half-close, read until the status.
      auto call = stub.PrepareCall(&ctx, path, &cq);
      void* tag;
      bool ok;
      call->StartCall(reinterpret_cast<void*>(1));
      ASSERT_TRUE(cq.Next(&tag, &ok));
      call->WriteLast(request, grpc::WriteOptions(), reinterpret_cast<void*>(2));
      ASSERT_TRUE(cq.Next(&tag, &ok));
      call->Read(&response, reinterpret_cast<void*>(3));
      ASSERT_TRUE(cq.Next(&tag, &ok));
      EXPECT_FALSE(ok) << "a message came back";
      call->Finish(&status, reinterpret_cast<void*>(4));
      ASSERT_TRUE(cq.Next(&tag, &ok));
    } else {
      absl::Notification done;
      stub.UnaryCall(&ctx, path, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
        status = std::move(s);
        done.Notify();
      });
      done.WaitForNotification();
    }
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_THAT(status.error_message(), AllOf(HasSubstr(absl::StrCat("not a valid ", c.message)),
                                              HasSubstr("protobuf decoding failed")));
    cq.Shutdown();
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
    }
  }
  auto metrics = HttpGet(server_->server->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  for (const char* method : {"Solve", "CompileModel", "WatchJob"}) {
    EXPECT_EQ(MetricValue(*metrics, "ensolve_undecodable_requests_total", {{"method", method}}), 1)
        << method;
    const std::map<std::string, std::string> labels = {{"method", method},
                                                       {"code", "invalid_argument"}};
    EXPECT_EQ(MetricValue(*metrics, "ensolve_requests_total", labels) -
                  MetricValue(*before, "ensolve_requests_total", labels),
              1)
        << method;
  }

  // A valid request on the same server still solves.
  EXPECT_TRUE(Run(LorenzRequest(10, 1)).ok());
}

TEST_F(ServiceErrors, QueueFullIsResourceExhausted) {
  // A job of 900,000 trajectories is admitted and held open (its reader waits); one more
  // of 900,000 would pass max_queued_trajectories = 1,500,000 and is refused.
  v1::SolveRequest big = LorenzRequest(900000, 1000);
  big.set_batch_size(1000);
  absl::Notification accepted, release;
  std::thread first([&] {
    server_->client
        ->SolveStream(big,
                      [&](const v1::SolveResponse& r) {
                        if (r.has_accepted()) accepted.Notify();
                        release.WaitForNotification();
                        return absl::CancelledError("enough");
                      })
        .IgnoreError();
  });
  accepted.WaitForNotification();
  EXPECT_THAT(Run(LorenzRequest(900000, 1)),
              IsError(absl::StatusCode::kResourceExhausted, "--max_queued_trajectories"));
  EXPECT_TRUE(Run(LorenzRequest(100, 1)).ok());  // small jobs still fit
  release.Notify();
  first.join();
}

}  // namespace
}  // namespace ensolve::testing
