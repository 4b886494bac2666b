// Raw CUDA kernels (issue 11, item 5) on a real ensolved without a GPU: who may send one
// (the capability `raw`, or --allow_raw_kernels without a tokens file), the size limit, a
// CPU-only server's refusal, and the limit in GetServerInfo. The
// GPU side (NVRTC compiles, results against the model language) is in
// engine/cuda/kernel_compile_test.cc and engine/cuda/cuda_backend_test.cc.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "engine/cuda/cuda_backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

v1::SolveRequest RawLorenz(size_t source_bytes = 0) {
  v1::SolveRequest req;
  v1::RawKernel* raw = req.mutable_raw_kernel();
  raw->set_cuda_source(kRawLorenzRhs);
  if (source_bytes > 0) raw->mutable_cuda_source()->resize(source_bytes, ' ');
  for (const char* s : {"x", "y", "z"}) raw->add_states(s);
  for (const char* p : {"sigma", "rho", "beta"}) raw->add_params(p);
  for (double v : {1.0, 0.0, 0.0}) raw->add_state_defaults(v);
  for (double v : {10.0, 28.0, 8.0 / 3}) raw->add_param_defaults(v);
  req.set_trajectories(4);
  req.mutable_options()->set_algorithm("tsit5");
  req.mutable_options()->set_t1(1);
  return req;
}

std::string Tokens() {
  const std::string path = TempDir() + "/tokens";
  std::ofstream(path) << "token-a alice\ntoken-b bob caps=solve,raw\n";
  return path;
}

MATCHER_P2(Is, code, message_part, "") {
  *result_listener << "status " << arg.error_code() << ": " << arg.error_message();
  return arg.error_code() == code && absl::StrContains(arg.error_message(), message_part);
}

TEST(RawKernels, RefusedWithoutTokensFileUnlessAllowed) {
  TestServer t = StartServer();
  EXPECT_THAT(SolveAs(t.server->target(), "", RawLorenz()),
              Is(grpc::StatusCode::PERMISSION_DENIED,
                 "raw_kernel: this server takes raw CUDA kernels only from tenants with the "
                 "capability 'raw'"));
  // Allowed, the CPU-only server still cannot run it, and says so.
  server::ServerConfig c = TestConfig();
  c.allow_raw_kernels = true;
  TestServer allowed = StartServer(c);
  EXPECT_THAT(SolveAs(allowed.server->target(), "", RawLorenz()),
              Is(grpc::StatusCode::FAILED_PRECONDITION,
                 "raw_kernel: raw CUDA kernels need every device of the server to be a GPU; "
                 "this server has cpu"));
  // The same server still solves model text.
  EXPECT_TRUE(SolveAs(allowed.server->target(), "", LorenzRequest(4, 1)).ok());
}

TEST(RawKernels, OnlyTenantsWithTheCapability) {
  server::ServerConfig c = TestConfig();
  c.tokens_file = Tokens();
  c.allow_raw_kernels = true;  // no effect with a tokens file
  TestServer t = StartServer(c);
  EXPECT_THAT(SolveAs(t.server->target(), "token-a", RawLorenz()),
              Is(grpc::StatusCode::PERMISSION_DENIED,
                 "raw_kernel: tenant 'alice' may not send raw CUDA kernels: it needs the "
                 "capability 'raw' and has caps=solve,detached in the server's tokens file"));
  // Bob may, but this server has no GPU.
  EXPECT_THAT(SolveAs(t.server->target(), "token-b", RawLorenz()),
              Is(grpc::StatusCode::FAILED_PRECONDITION, "this server has cpu"));
  // A detached job is a Solve: the same checks.
  auto stub = RawStub(t.server->target());
  grpc::ClientContext ctx;
  Authorize(&ctx, "token-a");
  v1::SubmitJobResponse submitted;
  const grpc::Status s = stub->SubmitJob(&ctx, RawLorenz(), &submitted);
  EXPECT_THAT(s, Is(grpc::StatusCode::PERMISSION_DENIED, "tenant 'alice' may not send raw"));
}

TEST(RawKernels, SourceSizeIsBounded) {
  server::ServerConfig c = TestConfig();
  c.allow_raw_kernels = true;
  c.max_raw_kernel_bytes = 1000;
  TestServer t = StartServer(c);
  EXPECT_THAT(SolveAs(t.server->target(), "", RawLorenz(5000)),
              Is(grpc::StatusCode::INVALID_ARGUMENT,
                 "raw_kernel.cuda_source: 5000 bytes, over the server's limit of 1000 "
                 "(--max_raw_kernel_bytes)"));
  absl::StatusOr<v1::ServerInfo> info = t.client->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->limits().max_raw_kernel_bytes(), 1000);
}

// On a GPU server (skipped without one): a raw Lorenz solves as the model language's Lorenz
// does, trajectory by trajectory, and a raw kernel that does not compile fails its job with
// NVRTC's message pointing at the tenant's line.
TEST(RawKernels, OnAGpuSolvesAsTheModelLanguage) {
  server::ServerConfig c = TestConfig();
  c.devices = "gpu";
  c.allow_raw_kernels = true;
  absl::StatusOr<std::vector<GpuDeviceInfo>> gpus = ListCudaDevices();
  if (!gpus.ok()) GTEST_SKIP() << "no GPU: " << gpus.status();
  TestServer t = StartServer(c);
  for (const v1::Precision precision : {v1::PRECISION_FLOAT32, v1::PRECISION_FLOAT64}) {
    const bool f32 = precision == v1::PRECISION_FLOAT32;
    SCOPED_TRACE(f32 ? "float32" : "float64");
    v1::SolveRequest raw = RawLorenz();
    raw.set_trajectories(64);
    raw.mutable_options()->set_precision(precision);
    raw.mutable_options()->set_algorithm("vern7");
    *raw.mutable_params() = LorenzRequest(64, 1, /*seed=*/7).params();
    v1::SolveRequest text = raw;
    text.set_model_source(kLorenz);
    absl::StatusOr<SolveResult> a = t.client->Solve(raw);
    ASSERT_TRUE(a.ok()) << a.status();
    absl::StatusOr<SolveResult> b = t.client->Solve(text);
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_EQ(a->states.size(), b->states.size());
    double worst = 0;
    for (size_t i = 0; i < a->states.size(); ++i) {
      worst = std::max(worst, std::abs(a->states[i] - b->states[i]) / (1 + std::abs(b->states[i])));
    }
    std::printf("raw vs model-language Lorenz, vern7 %s, 64 trajectories: worst %.2e\n",
                f32 ? "float32" : "float64", worst);
    EXPECT_LE(worst, f32 ? 1e-4 : 1e-10);
    EXPECT_EQ(a->retcodes, b->retcodes);
  }
  v1::SolveRequest broken = RawLorenz();
  broken.mutable_raw_kernel()->set_cuda_source(
      "__device__ void ModelRhs(R t, const R* u, const R* p, R* du) {\n"
      "  du[0] = u[1];\n"
      "  du[1] = p[0] * ;\n"
      "  du[2] = 0;\n}\n");
  EXPECT_THAT(SolveAs(t.server->target(), "", broken),
              Is(grpc::StatusCode::INVALID_ARGUMENT, "raw_kernel.cuda_source(3)"));
  v1::SolveRequest stiff = RawLorenz();
  stiff.mutable_options()->set_algorithm("rodas5p");
  EXPECT_THAT(SolveAs(t.server->target(), "", stiff),
              Is(grpc::StatusCode::INVALID_ARGUMENT,
                 "options.algorithm: rodas5p needs the model's Jacobian, which a raw kernel does "
                 "not give"));
  // NVRTC stopped at the compile time limit (--max_compile_time).
  server::ServerConfig quick = c;
  quick.model_limits.max_compile_seconds = 0.05;
  TestServer q = StartServer(quick);
  v1::SolveRequest slow = RawLorenz();
  slow.mutable_options()->set_algorithm("vern9");
  EXPECT_THAT(SolveAs(q.server->target(), "", slow),
              Is(grpc::StatusCode::RESOURCE_EXHAUSTED,
                 "(the limit max_compile_seconds, --max_compile_time); simplify the kernel"));
}

}  // namespace
}  // namespace ensolve::testing
