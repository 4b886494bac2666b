#include "engine/model/model.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/ir/eval.h"
#include "engine/ir/tape.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

constexpr char kLorenz[] = R"(# Lorenz
state x = 1, y = 0, z = 0
param sigma = 10, rho = 28, beta = 8/3
let d = y - x
x' = sigma*d
y' = x*(rho - z) - y
z' = x*y - beta*z
output energy = 0.5*(x^2 + y^2 + z^2)
)";

TEST(ModelTest, LorenzEndToEnd) {
  absl::StatusOr<std::unique_ptr<Model>> m = Model::Parse(kLorenz);
  ASSERT_TRUE(m.ok()) << m.status();
  const Model& model = **m;
  EXPECT_EQ(model.state_names(), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(model.param_names(), (std::vector<std::string>{"sigma", "rho", "beta"}));
  EXPECT_EQ(model.output_names(), (std::vector<std::string>{"energy"}));
  EXPECT_EQ(model.state_defaults(), (std::vector<double>{1, 0, 0}));
  EXPECT_EQ(model.param_defaults(), (std::vector<double>{10, 28, 8.0 / 3}));

  const double u[] = {1.5, -2.0, 3.0};
  const double p[] = {10, 28, 8.0 / 3};
  const std::vector<double> f = ir::Evaluate(model.graph(), model.rhs(), 0.0, u, p);
  EXPECT_DOUBLE_EQ(f[0], 10 * (-2.0 - 1.5));
  EXPECT_DOUBLE_EQ(f[1], 1.5 * (28 - 3.0) + 2.0);
  EXPECT_DOUBLE_EQ(f[2], 1.5 * -2.0 - 8.0 / 3 * 3.0);
  EXPECT_DOUBLE_EQ(ir::Evaluate(model.graph(), model.outputs()[0], 0.0, u, p),
                   0.5 * (1.5 * 1.5 + 4 + 9));

  const std::vector<double> jac = ir::Evaluate(model.graph(), model.jacobian(), 0.0, u, p);
  const std::vector<double> want = {-10, 10, 0, 28 - 3.0, -1, -1.5, -2.0, 1.5, -8.0 / 3};
  ASSERT_EQ(jac.size(), want.size());
  for (size_t k = 0; k < want.size(); ++k) EXPECT_DOUBLE_EQ(jac[k], want[k]) << k;
  for (double v : ir::Evaluate(model.graph(), model.time_derivative(), 0.0, u, p)) {
    EXPECT_EQ(v, 0.0);
  }

  const ir::Tape tape = ir::CompileTape(model.graph(), model.rhs(), 3, 3);
  const std::vector<double> ft = ir::RunTape(tape, 0.0, u, p);
  EXPECT_EQ(ft, f);
  EXPECT_EQ(model.hash().size(), 64u);
  EXPECT_EQ(model.source(), kLorenz);
}

}  // namespace
}  // namespace ensolve
