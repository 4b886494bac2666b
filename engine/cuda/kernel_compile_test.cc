// CI (no GPU needed): the generated kernels of a set of models compile with NVRTC for
// Hopper (every method of the table on Lorenz), and the Lorenz kernels keep every vector in
// registers (no stack frame). Skipped with a reason where libnvrtc cannot be found. Also: without a
// driver or device, the backend reports UNAVAILABLE with a clear message instead of crashing.
#include <chrono>
#include <cstdio>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/cuda/codegen.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda/internal/nvrtc.h"
#include "engine/cuda/test_models.h"
#include "engine/model/model.h"
#include "engine/model/sensitivity.h"
#include "engine/testing/events.h"
#include "gtest/gtest.h"

namespace ensolve::cuda {
namespace {

std::unique_ptr<Model> Parse(const char* src) {
  auto m = Model::Parse(src);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

// The "N bytes stack frame" of `kernel` in a ptxas -v log (-1 when absent).
int StackFrame(const std::string& log, const std::string& kernel) {
  const std::regex re("Function properties for " + kernel +
                      "\\s*\\n[^\\n]*?(\\d+) bytes stack frame");
  std::smatch m;
  if (!std::regex_search(log, m, re)) return -1;
  return std::stoi(m[1]);
}

// SDE models: diagonal noise (each state its own Wiener process, one state without noise),
// and a noise matrix over three named processes (an odd count: the last Philox block's
// second normal is unused).
constexpr char kSdeDiagonal[] =
    "state x = 1, y = 2, z = 0\nparam k = 0.7\nx' = -k*x + y\ny' = sin(x) - y\nz' = x*y\n"
    "noise x = 0.3*x\nnoise y = 0.2 + 0.1*cos(t)\n";
// With events: an `at` kick and a crossing with an assignment (integrate_sde.h's events).
constexpr char kSdeEvents[] =
    "state x = 1, y = 2\nparam k = 0.7\nx' = -k*x + y\ny' = sin(x) - y\n"
    "noise x = 0.3*x\nnoise y = 0.2\nat t = 0.37: y = y + 1\nwhen x - 2.5 crosses 0 up: x = 1\n";
constexpr char kSdeMatrix[] =
    "state x = 1, y = 0\nparam a = 0.5\nwiener A, B, C\nx' = -x\ny' = x - y\n"
    "noise x = a*x*dA + dB\nnoise y = -dB + y*dC\n";

// Which rows of the algorithm table a model is compiled with (NVRTC takes ~0.5-2 s per
// kernel, so CI compiles every method once, on Lorenz, and samples the rest).
// kEvery: every ODE method; kStochastic: the SDE methods (for models with noise).
enum class Methods { kEvery, kStiff, kOnePerKind, kStochastic };

struct Case {
  const char* name;
  const char* source;
  Methods methods;
};

bool Selected(Methods m, const AlgorithmInfo& info) {
  switch (m) {
    case Methods::kEvery:
      return !info.stochastic;
    case Methods::kStochastic:
      return info.stochastic;
    case Methods::kStiff:
      return info.stiff;
    case Methods::kOnePerKind:  // tsit5 and the first stiff row
      for (int i = 0; i < kNumAlgorithms; ++i) {
        if (AlgorithmTable()[i].stiff) {
          return info.algorithm == Algorithm::kTsit5 ||
                 info.algorithm == AlgorithmTable()[i].algorithm;
        }
      }
      return info.algorithm == Algorithm::kTsit5;
  }
  return false;
}

// The ball with a parameter assigned by its event, a terminating event and `at` stops.
constexpr char kEventBall[] = R"(state h = 45, v = 0
param g = 10, e = 1
h' = v
v' = -g
when h crosses 0 down: v = -e*v, e = 0.9*e
at t = 7, 11.5: v = v + 1
when h - 60 crosses 0 up: terminate
)";

class KernelCompileTest : public ::testing::TestWithParam<Case> {};

TEST_P(KernelCompileTest, CompilesForEveryAlgorithmAndPrecision) {
  absl::StatusOr<const Nvrtc*> nvrtc = Nvrtc::Get();
  if (!nvrtc.ok()) GTEST_SKIP() << "NVRTC unavailable: " << nvrtc.status();
  std::unique_ptr<Model> model = Parse(GetParam().source);
  ASSERT_NE(model, nullptr);
  for (int ai = 0; ai < kNumAlgorithms; ++ai) {
    if (!Selected(GetParam().methods, AlgorithmTable()[ai])) continue;
    const Algorithm a = AlgorithmTable()[ai].algorithm;
    for (Precision p : {Precision::kFloat32, Precision::kFloat64}) {
      const std::string src = GenerateKernelSource(*model, a, p);
      absl::StatusOr<CompiledProgram> prog =
          (*nvrtc)->Compile(src, "test.cu", KernelHeaders(), "sm_90");
      ASSERT_TRUE(prog.ok()) << AlgorithmName(a) << "/" << PrecisionName(p) << ": " << prog.status()
                             << "\nsource:\n"
                             << src;
      EXPECT_GT(prog->cubin.size(), 1000u);
      if (std::string(GetParam().name) == "Lorenz") {
        for (const char* k : {"ensolve_fixed", "ensolve_adaptive", "ensolve_fixed_saveat",
                              "ensolve_adaptive_saveat"}) {
          const std::regex used(std::string("Compiling entry function '") + k +
                                "'[^\\n]*\\n[^\\n]*\\n[^\\n]*\\n[^\\n]*Used (\\d+) registers");
          std::smatch m;
          if (std::regex_search(prog->log, m, used)) {
            std::printf("%s %s/%s: %s registers\n", k, AlgorithmName(a), PrecisionName(p),
                        m[1].str().c_str());
          }
        }
        for (const char* k : {"ensolve_fixed", "ensolve_adaptive", "ensolve_fixed_saveat",
                              "ensolve_adaptive_saveat"}) {
          // 0 for every method but rk4/float64, which since the driver integrates in both
          // directions keeps one 4-byte value on an 8-byte stack frame; ptxas's spills in the
          // ESDIRK kernels (every stage a Newton loop, the stages unrolled; measured with CUDA
          // 13's NVRTC): 8 bytes in kvaerno3/float64 and trbdf2/float32 ensolve_adaptive, 16
          // bytes in kvaerno5/float32 ensolve_fixed (at 80 registers); and vern9's save-point
          // kernels: the ten lazy stages of its interpolant run inside the save loop beside 19
          // live vectors, and ptxas spills 16 bytes there in float32 (at 128 registers;
          // float64 fits in 238-250 registers without a stack frame). Since each trajectory
          // may have its own span (read through the context at each step) and the ESDIRK
          // Newton carries its rate estimate across steps, ptxas's choices move between
          // kernels from build to build: 16 bytes in rodas5/rodas5p float64
          // ensolve_adaptive_saveat, and up to 24 in the ESDIRK kernels (kvaerno3/float32
          // ensolve_fixed 16, kvaerno5/float64 ensolve_fixed_saveat 24): a few values of
          // kernels that spend their time in LU solves and Newton iterations.
          const bool vern9_saveat =
              a == Algorithm::kVern9 && std::string(k).find("_saveat") != std::string::npos;
          const bool rodas5_f64 =
              (a == Algorithm::kRodas5 || a == Algorithm::kRodas5P) && p == Precision::kFloat64;
          const bool esdirk =
              a == Algorithm::kKvaerno3 || a == Algorithm::kKvaerno5 || a == Algorithm::kTrbdf2;
          const int allowed = vern9_saveat || esdirk ? 32 : rodas5_f64 ? 16 : 8;
          EXPECT_LE(StackFrame(prog->log, k), allowed)
              << k << " " << AlgorithmName(a) << "/" << PrecisionName(p) << ":\n"
              << prog->log;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, KernelCompileTest,
    ::testing::Values(Case{"Lorenz", testing::kLorenz, Methods::kEvery},
                      Case{"Robertson", testing::kRobertson, Methods::kStiff},
                      Case{"EveryFunction", testing::kEveryFunction, Methods::kOnePerKind},
                      Case{"SdeDiagonal", kSdeDiagonal, Methods::kStochastic},
                      Case{"SdeNoiseMatrix", kSdeMatrix, Methods::kStochastic},
                      Case{"SdeEvents", kSdeEvents, Methods::kStochastic},
                      // Events: every method with a crossing event that
                      // assigns a param, one per kind with `at` stops.
                      Case{"BouncingBall", kEventBall, Methods::kEvery},
                      Case{"Kicks", ensolve::testing::kKicks, Methods::kOnePerKind}),
    [](const auto& info) { return std::string(info.param.name); });

// Event code is generated only for a model with events: the kernel of one without is the
// same text as before events existed (so its registers and stack frame are too).
TEST(Codegen, EventCodeOnlyForModelsWithEvents) {
  std::unique_ptr<Model> lorenz = Parse(testing::kLorenz);
  std::unique_ptr<Model> ball = Parse(kEventBall);
  ASSERT_NE(lorenz, nullptr);
  ASSERT_NE(ball, nullptr);
  const std::string plain = GenerateKernelSource(*lorenz, Algorithm::kTsit5, Precision::kFloat32);
  EXPECT_EQ(plain.find("ENSOLVE_EVENTS"), std::string::npos);
  EXPECT_EQ(plain.find("ModelEvent"), std::string::npos);
  const std::string src = GenerateKernelSource(*ball, Algorithm::kTsit5, Precision::kFloat32);
  EXPECT_NE(src.find("#define ENSOLVE_EVENTS 1"), std::string::npos);
  EXPECT_NE(src.find("constexpr int kE = 3;"), std::string::npos);
  EXPECT_NE(src.find("ModelEventConditions("), std::string::npos);
  // The assignments write the state and the parameter; the stops are float32 values.
  EXPECT_NE(src.find("u[1] = v[0];"), std::string::npos) << src;
  EXPECT_NE(src.find("p[1] = v[1];"), std::string::npos) << src;
  EXPECT_NE(src.find("constexpr int kNumStops = 2;"), std::string::npos);
  EXPECT_NE(src.find("__constant__ R kStops[2] = {R(0x1.cp+2), R(0x1.7p+3)};"), std::string::npos)
      << src;
  EXPECT_NE(src.find("case 2:\n      return true;"), std::string::npos) << src;  // terminates
}

TEST(Codegen, DeviceSamplerCompiles) {
  absl::StatusOr<const Nvrtc*> nvrtc = Nvrtc::Get();
  if (!nvrtc.ok()) GTEST_SKIP() << "NVRTC unavailable: " << nvrtc.status();
  absl::StatusOr<CompiledProgram> prog =
      (*nvrtc)->Compile(SamplerKernelSource(), "sampler.cu", KernelHeaders(), "sm_90");
  ASSERT_TRUE(prog.ok()) << prog.status();
  for (const char* k : {"ensolve_sample_uniform", "ensolve_sample_grid"}) {
    EXPECT_NE(prog->log.find(k), std::string::npos) << k << " missing:\n" << prog->log;
  }
}

TEST(Codegen, ConstantsAreExactAndDerivativesAreEmitted) {
  std::unique_ptr<Model> model = Parse(testing::kLorenz);
  ASSERT_NE(model, nullptr);
  const std::string code = GenerateModelCode(*model, Precision::kFloat32, true, true);
  EXPECT_NE(code.find("ModelRhs"), std::string::npos);
  EXPECT_NE(code.find("ModelJacobian"), std::string::npos);
  EXPECT_NE(code.find("ModelTimeDerivative"), std::string::npos);
  // An explicit method's kernel carries no derivative code.
  const std::string kernel = GenerateKernelSource(*model, Algorithm::kTsit5, Precision::kFloat32);
  EXPECT_EQ(kernel.find("ModelJacobian("), std::string::npos);
  EXPECT_EQ(kernel.find("ModelTimeDerivative("), std::string::npos);
  // Parameters are inputs, never baked in; the kernel key separates precisions.
  EXPECT_EQ(code.find("0x1.5555555555555p+1"), std::string::npos);
  EXPECT_NE(KernelKey(*model, Algorithm::kTsit5, Precision::kFloat32),
            KernelKey(*model, Algorithm::kTsit5, Precision::kFloat64));
}

// An SDE method's kernel carries the noise matrix and the generator; an ODE method's none.
TEST(Codegen, SdeKernelsHaveTheNoiseMatrix) {
  std::unique_ptr<Model> model = Parse(kSdeMatrix);
  ASSERT_NE(model, nullptr);
  const std::string em = GenerateKernelSource(*model, Algorithm::kEM, Precision::kFloat64);
  EXPECT_NE(em.find("#define ENSOLVE_STOCHASTIC 1"), std::string::npos);
  EXPECT_NE(em.find("constexpr int kM = 3;"), std::string::npos);
  EXPECT_NE(em.find("ModelNoise("), std::string::npos);
  std::unique_ptr<Model> lorenz = Parse(testing::kLorenz);
  const std::string ode = GenerateKernelSource(*lorenz, Algorithm::kTsit5, Precision::kFloat64);
  EXPECT_NE(ode.find("#define ENSOLVE_STOCHASTIC 0"), std::string::npos);
  EXPECT_EQ(ode.find("ModelNoise("), std::string::npos);
}

// A kernel whose save points hold a selection (a state and a named output) computes them
// with ModelOutputs and stores kOut values per save point.
TEST(Codegen, OutputSelectionCompiles) {
  absl::StatusOr<const Nvrtc*> nvrtc = Nvrtc::Get();
  if (!nvrtc.ok()) GTEST_SKIP() << "NVRTC unavailable: " << nvrtc.status();
  std::unique_ptr<Model> model =
      Parse("state x = 1, y = 0\nx' = y\ny' = -x\noutput energy = x^2 + y^2\n");
  ASSERT_NE(model, nullptr);
  auto roots = model->SelectionRoots({"energy", "y"});
  ASSERT_TRUE(roots.ok()) << roots.status();
  const std::string src =
      GenerateKernelSource(*model, Algorithm::kTsit5, Precision::kFloat64, *roots);
  EXPECT_NE(src.find("constexpr int kOut = 2;"), std::string::npos);
  EXPECT_NE(src.find("ModelOutputs("), std::string::npos);
  absl::StatusOr<CompiledProgram> prog =
      (*nvrtc)->Compile(src, "selection.cu", KernelHeaders(), "sm_90");
  ASSERT_TRUE(prog.ok()) << prog.status();
  EXPECT_NE(KernelKey(*model, Algorithm::kTsit5, Precision::kFloat64, {"energy", "y"}),
            KernelKey(*model, Algorithm::kTsit5, Precision::kFloat64, {"y", "energy"}));
}

// Sensitivity models (engine/model/sensitivity.h) are ordinary models to the code
// generator: the augmented Robertson (12 states, 4 blocks) for rodas5p and an output
// selection with outputs' sensitivities for tsit5 compile for sm_90. With the block LU
// (linsolve.h) the rodas5p kernel took 14.6 s on the 2-core build machine; with a dense
// 12 x 12 LU it took about 2 minutes.
TEST(Codegen, SensitivityModelsCompile) {
  absl::StatusOr<const Nvrtc*> nvrtc = Nvrtc::Get();
  if (!nvrtc.ok()) GTEST_SKIP() << "NVRTC unavailable: " << nvrtc.status();
  std::unique_ptr<Model> base = Parse(testing::kRobertson);
  ASSERT_NE(base, nullptr);
  auto sens = BuildSensitivityModel(*base, {0, 1, 2});
  ASSERT_TRUE(sens.ok()) << sens.status();
  const std::string stiff = GenerateKernelSource(**sens, Algorithm::kRodas5P, Precision::kFloat64);
  EXPECT_NE(stiff.find("constexpr int kN = 12;"), std::string::npos);
  EXPECT_NE(stiff.find("ModelJacobian("), std::string::npos);
  EXPECT_NE(stiff.find("constexpr int kBlocks = 4;"), std::string::npos);
  {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<CompiledProgram> prog =
        (*nvrtc)->Compile(stiff, "sensitivities.cu", KernelHeaders(), "sm_90");
    ASSERT_TRUE(prog.ok()) << prog.status();
    std::printf("rodas5p, augmented Robertson (12 states, 4 blocks): NVRTC %.1f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::unique_ptr<Model> osc =
      Parse("param w = 2\nstate x = 1, y = 0\nx' = w*y\ny' = -w*x\noutput energy = x^2 + y^2\n");
  ASSERT_NE(osc, nullptr);
  auto s2 = BuildSensitivityModel(*osc, {0});
  ASSERT_TRUE(s2.ok()) << s2.status();
  auto roots = (*s2)->SelectionRoots(SensitivitySelection({"energy", "y"}, {"w"}));
  ASSERT_TRUE(roots.ok()) << roots.status();
  const std::string src =
      GenerateKernelSource(**s2, Algorithm::kTsit5, Precision::kFloat64, *roots);
  EXPECT_NE(src.find("constexpr int kOut = 4;"), std::string::npos);
  absl::StatusOr<CompiledProgram> prog =
      (*nvrtc)->Compile(src, "sensitivity_outputs.cu", KernelHeaders(), "sm_90");
  ASSERT_TRUE(prog.ok()) << prog.status();
}

// Where a stiff method's per-trajectory n x n matrix leaves registers: a chain of n coupled
// decays in float64, the stack frame ptxas reports for the adaptive kernel. Measured with
// CUDA 13's NVRTC for sm_90 (docs/algorithms.md): rodas5p 0 bytes up to 4 states, then
// 1056 (6), 1912 (8), 4008 (16); kvaerno5 0, then 1096, 2008, 4072. CI checks the boundary.
TEST(Codegen, StiffKernelsKeepSmallSystemsInRegisters) {
  absl::StatusOr<const Nvrtc*> nvrtc = Nvrtc::Get();
  if (!nvrtc.ok()) GTEST_SKIP() << "NVRTC unavailable: " << nvrtc.status();
  for (Algorithm a : {Algorithm::kRodas5P}) {
    for (int n : {4, 6}) {
      std::string src = "param k = 1\n";
      for (int i = 0; i < n; ++i) absl::StrAppend(&src, "state u", i, " = 1\n");
      for (int i = 0; i < n; ++i) {
        absl::StrAppend(&src, "u", i, "' = -k*", i + 1, "*u", i,
                        i > 0 ? absl::StrCat(" + u", i - 1, "^2") : std::string(), "\n");
      }
      std::unique_ptr<Model> model = Parse(src.c_str());
      ASSERT_NE(model, nullptr);
      absl::StatusOr<CompiledProgram> prog =
          (*nvrtc)->Compile(GenerateKernelSource(*model, a, Precision::kFloat64), "chain.cu",
                            KernelHeaders(), "sm_90");
      ASSERT_TRUE(prog.ok()) << prog.status();
      const int frame = StackFrame(prog->log, "ensolve_adaptive");
      std::printf("%s float64, %2d states: stack frame %d bytes\n", AlgorithmName(a), n, frame);
      if (n <= 4) EXPECT_EQ(frame, 0) << AlgorithmName(a) << " n = " << n;
      if (n > 4) EXPECT_GT(frame, 0) << AlgorithmName(a) << " n = " << n;
    }
  }
}

TEST(Codegen, EmbedsTheAlgorithmHeaders) {
  bool tsit5 = false, kernel = false;
  for (const NamedHeader& h : KernelHeaders()) {
    tsit5 |= h.name == "engine/algorithms/tsit5.h";
    kernel |= h.name == "engine/cuda/device/ensemble_kernel.cuh";
  }
  EXPECT_TRUE(tsit5);
  EXPECT_TRUE(kernel);
}

TEST(NoGpu, UnavailableIsAStatusNotACrash) {
  absl::StatusOr<std::vector<GpuDeviceInfo>> devices = ListCudaDevices();
  if (devices.ok()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_EQ(devices.status().code(), absl::StatusCode::kUnavailable) << devices.status();
  absl::StatusOr<std::unique_ptr<CudaBackend>> b = NewCudaBackend(0);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable) << b.status();
  const std::string msg(b.status().message());
  EXPECT_TRUE(msg.find("no CUDA driver (libcuda.so.1 not found)") != std::string::npos ||
              msg.find("no CUDA device") != std::string::npos)
      << msg;
}

}  // namespace
}  // namespace ensolve::cuda
