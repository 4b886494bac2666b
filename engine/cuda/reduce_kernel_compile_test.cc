// CI (no GPU needed): the device reduction module (engine/cuda/device/reduce_kernel.cuh, with
// engine/reduction_math.h) compiles with NVRTC for Hopper and exports its three kernels.
// Skipped with a reason where libnvrtc cannot be found.
#include <string>

#include "engine/cuda/codegen.h"
#include "engine/cuda/internal/nvrtc.h"
#include "engine/cuda/internal/reduce_launch.h"
#include "gtest/gtest.h"

namespace ensolve::cuda {
namespace {

TEST(ReduceKernelCompile, CompilesForHopper) {
  absl::StatusOr<const Nvrtc*> nvrtc = Nvrtc::Get();
  if (!nvrtc.ok()) GTEST_SKIP() << "NVRTC unavailable: " << nvrtc.status();
  absl::StatusOr<CompiledProgram> prog =
      (*nvrtc)->Compile(ReduceKernelSource(), "reduce.cu", KernelHeaders(), "sm_90");
  ASSERT_TRUE(prog.ok()) << prog.status();
  EXPECT_GT(prog->cubin.size(), 1000u);
  for (const char* name : {"ensolve_reduce_f32", "ensolve_reduce_f64", "ensolve_count_retcodes"}) {
    EXPECT_NE(prog->cubin.find(name), std::string::npos) << name;
  }
}

TEST(ReduceLayout, BlocksAreAlignedAndHoldEveryArray) {
  ReductionSpec spec;
  spec.num_save = 3;
  spec.width = 5;
  spec.bins = 4;
  const ReduceLayout l = ReduceLayout::For(spec);
  EXPECT_EQ(l.moments, 0u);
  EXPECT_GE(l.nonfinite, 15u * 48);
  EXPECT_EQ(l.nonfinite % 256, 0u);
  EXPECT_GE(l.histogram, l.nonfinite + 15 * 8);
  EXPECT_GE(l.retcodes, l.histogram + 15 * 6 * 8);
  EXPECT_EQ(l.bytes, l.retcodes + 64);
}

}  // namespace
}  // namespace ensolve::cuda
