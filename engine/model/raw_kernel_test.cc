// Raw-kernel models (engine/model/raw_kernel.h): what a valid spec gives (names, defaults,
// state selection, a hash apart from model text's), and every bad field's message.
#include "engine/model/raw_kernel.h"

#include <string>

#include "engine/backend.h"
#include "engine/testing/lorenz.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

RawKernelSpec Lorenz() {
  RawKernelSpec s;
  s.cuda_source = testing::kRawLorenzRhs;
  s.states = {"x", "y", "z"};
  s.params = {"sigma", "rho", "beta"};
  s.state_defaults = {1, 0, 0};
  return s;
}

std::string Error(const RawKernelSpec& spec, const ModelLimits& limits = {}) {
  absl::StatusOr<std::unique_ptr<Model>> m = BuildRawKernelModel(spec, limits);
  EXPECT_FALSE(m.ok());
  if (m.ok()) return "";
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << m.status();
  return std::string(m.status().message());
}

TEST(RawKernel, ValidSpecGivesAModelOfItsNames) {
  ModelLimits limits;
  limits.max_compile_seconds = 7;
  absl::StatusOr<std::unique_ptr<Model>> m = BuildRawKernelModel(Lorenz(), limits);
  ASSERT_TRUE(m.ok()) << m.status();
  const Model& model = **m;
  EXPECT_TRUE(model.is_raw_kernel());
  EXPECT_EQ(model.raw_cuda_source(), testing::kRawLorenzRhs);
  EXPECT_EQ(model.raw_compile_seconds(), 7);
  EXPECT_EQ(model.num_states(), 3);
  EXPECT_EQ(model.num_params(), 3);
  EXPECT_EQ(model.state_defaults(), (std::vector<double>{1, 0, 0}));
  EXPECT_EQ(model.param_defaults(), (std::vector<double>{0, 0, 0}));  // none given: 0
  EXPECT_TRUE(model.rhs().empty());
  EXPECT_FALSE(model.has_noise());
  EXPECT_EQ(model.num_events(), 0);
  // The states can be selected; nothing else is an output.
  absl::StatusOr<std::vector<ir::NodeId>> roots = model.SelectionRoots({"z", "x"});
  ASSERT_TRUE(roots.ok()) << roots.status();
  EXPECT_EQ(roots->size(), 2u);
  EXPECT_FALSE(model.SelectionRoots({"sigma"}).ok());
  // The id covers the source, the names and the defaults, and is no model text's.
  RawKernelSpec other = Lorenz();
  other.param_defaults = {10, 28, 8.0 / 3};
  EXPECT_NE(BuildRawKernelModel(other).value()->hash(), model.hash());
  other = Lorenz();
  other.states = {"x", "z", "y"};
  EXPECT_NE(BuildRawKernelModel(other).value()->hash(), model.hash());
  EXPECT_NE(Model::Parse(testing::kLorenz).value()->hash(), model.hash());
  EXPECT_EQ(BuildRawKernelModel(Lorenz()).value()->hash(), model.hash());
  EXPECT_FALSE(Model::Parse(RawKernelKey(Lorenz())).ok());
  // A model from text is not a raw kernel.
  EXPECT_FALSE(Model::Parse(testing::kLorenz).value()->is_raw_kernel());
}

TEST(RawKernel, OnlyTheCudaBackendRunsIt) {
  std::unique_ptr<Model> m = BuildRawKernelModel(Lorenz()).value();
  SolveOptions o;
  std::unique_ptr<Backend> cpu = NewCpuBackend(1);
  absl::StatusOr<std::unique_ptr<PreparedModel>> p = cpu->Prepare(*m, o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.status().message(),
            "raw_kernel: a raw CUDA kernel runs only on a GPU device, not on the CPU backend");
  // Methods that need more than the right-hand side are refused by name.
  EXPECT_EQ(CheckAlgorithmFitsModel(*m, Algorithm::kRodas5P).message(),
            "algorithm: rodas5p needs the model's Jacobian, which a raw kernel does not give (it "
            "defines only ModelRhs); use an explicit ODE method such as tsit5, vern7 or vern9");
  EXPECT_EQ(CheckAlgorithmFitsModel(*m, Algorithm::kEM).message(),
            "algorithm: em needs the model's noise, which a raw kernel does not give (it defines "
            "only ModelRhs); use an explicit ODE method such as tsit5, vern7 or vern9");
  EXPECT_TRUE(CheckAlgorithmFitsModel(*m, Algorithm::kVern9).ok());
}

TEST(RawKernel, EveryBadFieldIsNamed) {
  RawKernelSpec s = Lorenz();
  s.cuda_source = " \n";
  EXPECT_EQ(Error(s),
            "raw_kernel.cuda_source: is empty; expected CUDA C++ source defining __device__ void "
            "ModelRhs(R t, const R* u, const R* p, R* du)");
  s = Lorenz();
  s.states.clear();
  s.state_defaults.clear();
  EXPECT_EQ(Error(s),
            "raw_kernel.states: none given; expected the names of the states, in their order in u");
  s = Lorenz();
  s.params[1] = "2rho";
  EXPECT_EQ(Error(s),
            "raw_kernel.params[1]: '2rho' is not a name: expected a letter or '_' followed by "
            "letters, digits or '_'");
  s = Lorenz();
  s.states[2] = "x";
  EXPECT_EQ(Error(s), "raw_kernel.states[2]: 'x' is already raw_kernel.states[0]");
  s = Lorenz();
  s.states[0] = std::string(200, 'a');
  EXPECT_EQ(Error(s),
            "raw_kernel.states[0]: 200 bytes, over the limit max_identifier_length = 128");
  s = Lorenz();
  s.state_defaults = {1, 2};
  EXPECT_EQ(Error(s),
            "raw_kernel.state_defaults: has 2 values, expected 3 (one per raw_kernel.states) or "
            "none (every default 0)");
  ModelLimits small;
  small.max_params = 2;
  EXPECT_EQ(Error(Lorenz(), small), "raw_kernel.params: 3 names, over the limit max_params = 2");
}

}  // namespace
}  // namespace ensolve
