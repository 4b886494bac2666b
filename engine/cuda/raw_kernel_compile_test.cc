// CI (no GPU needed): raw-kernel models (engine/model/raw_kernel.h) compile with NVRTC in
// place of the generated right-hand side, for the explicit methods in both precisions; a
// source that does not compile gives NVRTC's message at the tenant's own line; a compile
// past its time limit is stopped (nvrtcSetFlowCallback) as DEADLINE_EXCEEDED. Skipped with
// a reason where libnvrtc cannot be found.
#include <chrono>
#include <cstdio>
#include <string>

#include "engine/cuda/codegen.h"
#include "engine/cuda/internal/nvrtc.h"
#include "engine/model/raw_kernel.h"
#include "engine/testing/lorenz.h"
#include "gtest/gtest.h"

namespace ensolve::cuda {
namespace {

std::unique_ptr<Model> RawLorenz(const std::string& source = ensolve::testing::kRawLorenzRhs,
                                 double max_compile_seconds = 0) {
  RawKernelSpec s;
  s.cuda_source = source;
  s.states = {"x", "y", "z"};
  s.params = {"sigma", "rho", "beta"};
  ModelLimits limits;
  limits.max_compile_seconds = max_compile_seconds;
  absl::StatusOr<std::unique_ptr<Model>> m = BuildRawKernelModel(s, limits);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

TEST(RawKernelCompile, ExplicitMethodsCompileInBothPrecisions) {
  absl::StatusOr<const Nvrtc*> nvrtc = Nvrtc::Get();
  if (!nvrtc.ok()) GTEST_SKIP() << "NVRTC unavailable: " << nvrtc.status();
  std::unique_ptr<Model> model = RawLorenz();
  ASSERT_NE(model, nullptr);
  for (const auto& [algorithm, precision] : {std::pair{Algorithm::kTsit5, Precision::kFloat32},
                                             std::pair{Algorithm::kVern7, Precision::kFloat64}}) {
    SCOPED_TRACE(AlgorithmName(algorithm));
    const std::string src = GenerateKernelSource(*model, algorithm, precision);
    EXPECT_NE(src.find("#line 1 \"raw_kernel.cuda_source\"\n// Lorenz, by hand"),
              std::string::npos);
    // The tenant's function replaces the generated one (which is __forceinline__).
    EXPECT_EQ(src.find("__device__ __forceinline__ void ModelRhs"), std::string::npos);
    absl::StatusOr<CompiledProgram> prog =
        (*nvrtc)->Compile(src, "raw.cu", KernelHeaders(), "sm_90", {}, /*max_seconds=*/120);
    ASSERT_TRUE(prog.ok()) << prog.status();
    EXPECT_FALSE(prog->cubin.empty());
    std::printf("raw Lorenz %s %s: compiled in %.2f s\n", AlgorithmName(algorithm),
                PrecisionName(precision), prog->seconds);
  }
  // A selection of states saves those states.
  auto roots = model->SelectionRoots({"z"});
  ASSERT_TRUE(roots.ok()) << roots.status();
  const std::string sel =
      GenerateKernelSource(*model, Algorithm::kTsit5, Precision::kFloat64, *roots);
  EXPECT_NE(sel.find("out[0] = u[2];"), std::string::npos) << sel;
}

TEST(RawKernelCompile, ErrorsPointAtTheTenantsLine) {
  absl::StatusOr<const Nvrtc*> nvrtc = Nvrtc::Get();
  if (!nvrtc.ok()) GTEST_SKIP() << "NVRTC unavailable: " << nvrtc.status();
  std::unique_ptr<Model> model = RawLorenz(
      "__device__ void ModelRhs(R t, const R* u, const R* p, R* du) {\n"
      "  du[0] = u[1];\n"
      "  du[1] = p[0] * ;\n"
      "  du[2] = 0;\n}\n");
  ASSERT_NE(model, nullptr);
  absl::StatusOr<CompiledProgram> prog =
      (*nvrtc)->Compile(GenerateKernelSource(*model, Algorithm::kTsit5, Precision::kFloat64),
                        "raw.cu", KernelHeaders(), "sm_90");
  ASSERT_FALSE(prog.ok());
  EXPECT_EQ(prog.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(prog.status().message().find("raw_kernel.cuda_source(3): error"), std::string::npos)
      << prog.status();
}

TEST(RawKernelCompile, ACompilePastItsLimitIsStopped) {
  absl::StatusOr<const Nvrtc*> nvrtc = Nvrtc::Get();
  if (!nvrtc.ok()) GTEST_SKIP() << "NVRTC unavailable: " << nvrtc.status();
  std::unique_ptr<Model> model = RawLorenz();
  ASSERT_NE(model, nullptr);
  const std::string src = GenerateKernelSource(*model, Algorithm::kVern9, Precision::kFloat64);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<CompiledProgram> prog =
      (*nvrtc)->Compile(src, "raw.cu", KernelHeaders(), "sm_90", {}, /*max_seconds=*/0.05);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(prog.ok());
  EXPECT_EQ(prog.status().code(), absl::StatusCode::kDeadlineExceeded) << prog.status();
  EXPECT_NE(prog.status().message().find("was stopped after the limit of 0.05 s"),
            std::string::npos)
      << prog.status();
  std::printf("vern9 compile stopped %.2f s after it started (limit 0.05 s)\n", took);
}

}  // namespace
}  // namespace ensolve::cuda
