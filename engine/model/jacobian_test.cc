// The symbolic Jacobian and time derivative agree with central finite differences.
#include <algorithm>
#include <cmath>
#include <functional>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "engine/ir/eval.h"
#include "engine/model/model.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

struct Case {
  const char* name;
  const char* source;
  double lo, hi;  // states and t are drawn from [lo, hi]
  // Rejects points too close to a kink of a piecewise function (null: accept all).
  std::function<bool(const std::vector<double>& u)> smooth_at;
};

const Case kCases[] = {
    {"Lorenz",
     "state x = 1, y = 0, z = 0\nparam sigma = 10, rho = 28, beta = 8/3\nlet d = y - x\n"
     "x' = sigma*d\ny' = x*(rho - z) - y\nz' = x*y - beta*z\n",
     -20, 20, nullptr},
    {"Robertson",
     "state y1 = 1, y2 = 0, y3 = 0\nparam k1 = 0.04, k2 = 3e7, k3 = 1e4\n"
     "y1' = -k1*y1 + k3*y2*y3\ny2' = k1*y1 - k2*y2^2 - k3*y2*y3\ny3' = k2*y2^2\n",
     0, 1, nullptr},
    {"VanDerPol", "state x = 2, y = 0\nparam mu = 5\nx' = y\ny' = mu*((1 - x^2)*y) - x\n", -3, 3,
     nullptr},
    {"Pendulum",
     "state theta = 1, omega = 0\nparam g = 9.81, L = 1.5, c = 0.1\n"
     "theta' = omega\nomega' = -g/L*sin(theta) - c*omega\n",
     -4, 4, nullptr},
    {"Transcendental",
     "state a = 1, b = 2, c = 0.5\nparam k = 1.3\n"
     "a' = exp(-a*b) + log(1 + b^2) * sqrt(c + 2)\n"
     "b' = pow(a + 2, c) + atan2(b, a + 3) - tanh(k*c) + atan2(a, -2)\n"
     "c' = asin(0.5*tanh(a)) + acos(0.3*sin(b)) + atan(c) + sinh(a)/cosh(b) +\n"
     "     log10(2 + a^2) + tan(0.3*c) + exp(a)^1.5 + 1/(a^2 + 1)\n",
     -1.5, 1.5, nullptr},
    {"Piecewise",
     "state x = 1, y = 2\n"
     "x' = min(x, y) * abs(y) + floor(3.5 + 0*x) * x + ceil(x*y)\n"
     "y' = max(x*y, 1) + ifelse(x > y, x^2, -y^3) + sign(x)*y + ifelse(x < 0 || y > 1, y, 2*x)"
     " * (!(x > 2) + (x != y))\n",
     -3, 3,
     [](const std::vector<double>& u) {
       const double x = u[0], y = u[1];
       auto far = [](double v) { return std::fabs(v) > 0.02; };
       const double xy = x * y;
       return far(x - y) && far(xy - 1) && far(x) && far(y - 1) && far(x - 2) &&
              far(xy - std::round(xy));
     }},
    {"DuffingForced",
     "state x = 0.1, v = 0\nparam delta = 0.2, alpha = -1, beta = 1, gamma = 0.3, w = 1.2\n"
     "x' = v\nv' = -delta*v - alpha*x - beta*x^3 + gamma*cos(w*t)\n",
     -2, 2, nullptr},
    {"Brusselator",
     "state x = 1, y = 1\nparam A = 1, B = 3\nx' = A + x^2*y - (B + 1)*x\ny' = B*x - x^2*y\n", -2,
     2, nullptr},
    {"GeneralPower", "state x = 1, y = 1\nx' = x^y + t^2*y^x\ny' = 2^x - x^(t + 1) + (x*y)^-0.5\n",
     0.2, 2, nullptr},
    {"MichaelisMentenTimeVarying",
     "state s = 1, p = 0\nparam vmax = 1.5, km = 0.3\nlet rate = vmax*s/(km + s)\n"
     "s' = -rate + sin(t)^2\np' = rate - t*p/(1 + t^2)\noutput total = s + p\n",
     0.1, 3, nullptr},
    {"Rossler",
     "state x = 1, y = 1, z = 1\nparam a = 0.2, b = 0.2, c = 5.7\n"
     "x' = -y - z\ny' = x + a*y\nz' = b + z*(x - c)\n",
     -5, 5, nullptr},
    {"HodgkinHuxleyLike",
     "state V = -65, m = 0.05\nparam I = 10\n"
     "let am = 0.1*(V + 40)/(1 - exp(-(V + 40)/10))\nlet bm = 4*exp(-(V + 65)/18)\n"
     "V' = I - 120*m^3*(V - 50) - 0.3*(V + 54.4) + 2*sin(0.1*t)\n"
     "m' = am*(1 - m) - bm*m\n",
     0.1, 0.9, nullptr},
};

// Test names print as the case's name, not as bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class JacobianTest : public testing::TestWithParam<Case> {};

TEST_P(JacobianTest, MatchesCentralDifferences) {
  const Case& c = GetParam();
  absl::StatusOr<std::unique_ptr<Model>> parsed = Model::Parse(c.source);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Model& m = **parsed;
  const int n = m.num_states();
  const ir::Graph& g = m.graph();
  ASSERT_EQ(m.jacobian().size(), static_cast<size_t>(n * n));
  ASSERT_EQ(m.time_derivative().size(), static_cast<size_t>(n));
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> dist(c.lo, c.hi);
  std::vector<double> p = m.param_defaults();
  int checked = 0;
  for (int trial = 0; trial < 200 && checked < 25; ++trial) {
    std::vector<double> u(n);
    for (double& v : u) v = dist(rng);
    const double t = dist(rng);
    if (c.smooth_at && !c.smooth_at(u)) continue;
    ++checked;
    const std::vector<double> f = ir::Evaluate(g, m.rhs(), t, u.data(), p.data());
    const std::vector<double> jac = ir::Evaluate(g, m.jacobian(), t, u.data(), p.data());
    const std::vector<double> ft = ir::Evaluate(g, m.time_derivative(), t, u.data(), p.data());
    auto check = [&](double exact, double fd, double scale, const std::string& what) {
      ASSERT_TRUE(std::isfinite(exact)) << what;
      EXPECT_NEAR(exact, fd, 1e-6 * std::max({1.0, std::fabs(exact), scale})) << what;
    };
    double fscale = 0;
    for (double v : f) fscale = std::max(fscale, std::fabs(v));
    for (int j = 0; j < n; ++j) {
      const double h = 1e-6 * std::max(1.0, std::fabs(u[j]));
      std::vector<double> up = u, um = u;
      up[j] += h;
      um[j] -= h;
      const std::vector<double> fp = ir::Evaluate(g, m.rhs(), t, up.data(), p.data());
      const std::vector<double> fm = ir::Evaluate(g, m.rhs(), t, um.data(), p.data());
      for (int i = 0; i < n; ++i) {
        check(jac[i * n + j], (fp[i] - fm[i]) / (2 * h), 1e-3 * fscale,
              "d f" + std::to_string(i) + " / d u" + std::to_string(j));
      }
    }
    const double h = 1e-6 * std::max(1.0, std::fabs(t));
    const std::vector<double> fp = ir::Evaluate(g, m.rhs(), t + h, u.data(), p.data());
    const std::vector<double> fm = ir::Evaluate(g, m.rhs(), t - h, u.data(), p.data());
    for (int i = 0; i < n; ++i) {
      check(ft[i], (fp[i] - fm[i]) / (2 * h), 1e-3 * fscale, "d f" + std::to_string(i) + " / dt");
    }
  }
  EXPECT_GE(checked, 10);
}

INSTANTIATE_TEST_SUITE_P(Models, JacobianTest, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

TEST(JacobianTest, AutonomousModelHasZeroTimeDerivative) {
  absl::StatusOr<std::unique_ptr<Model>> m = Model::Parse("state x, y\nx' = x*y\ny' = sin(x)\n");
  ASSERT_TRUE(m.ok());
  for (ir::NodeId id : (*m)->time_derivative()) EXPECT_TRUE((*m)->graph().IsConstantEqual(id, 0));
}

TEST(JacobianTest, LinearModelHasConstantJacobian) {
  absl::StatusOr<std::unique_ptr<Model>> m =
      Model::Parse("state x, y\nx' = 2*x - 3*y\ny' = -x/4\n");
  ASSERT_TRUE(m.ok());
  const std::vector<double> want = {2, -3, -0.25, 0};
  for (int k = 0; k < 4; ++k) {
    EXPECT_TRUE((*m)->graph().IsConstantEqual((*m)->jacobian()[k], want[k])) << k;
  }
}

}  // namespace
}  // namespace ensolve
