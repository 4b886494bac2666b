// The shared integrators on one trajectory (host, scalar): convergence orders, dense
// output, adaptive accuracy, and return codes.
#include <cmath>
#include <vector>

#include "engine/algorithms/euler.h"
#include "engine/algorithms/rk4.h"
#include "engine/algorithms/scalar_context.h"
#include "engine/algorithms/tsit5.h"
#include "gtest/gtest.h"

namespace ensolve::alg {
namespace {

// u1' = cos(t) u1 (u1 = exp(sin t)); u2' = -u3, u3' = u2 (u2 = cos t, u3 = sin t).
template <class T>
void Rhs(T t, const T* u, T* du) {
  du[0] = std::cos(t) * u[0];
  du[1] = -u[2];
  du[2] = u[1];
}
double Exact(int i, double t) {
  return i == 0 ? std::exp(std::sin(t)) : i == 1 ? std::cos(t) : std::sin(t);
}

template <class T>
Controls<T> Fixed(T t1, T dt) {
  return Controls<T>{T(0), t1, dt, T(1e-6), T(1e-3), T(0), 100000000, false};
}
template <class T>
Controls<T> Adaptive(T t1, T tol) {
  return Controls<T>{T(0), t1, T(0), tol, tol, T(0), 100000000, true};
}

template <class Alg>
double FinalError(double dt, double t1 = 2.0) {
  auto r = SolveScalar<Alg, double>(3, Rhs<double>, {1.0, 1.0, 0.0}, {}, Fixed(t1, dt));
  EXPECT_EQ(r.retcode, kRetSuccess);
  double e = 0;
  for (int i = 0; i < 3; ++i) e = std::max(e, std::abs(r.saved[0][i] - Exact(i, t1)));
  return e;
}

// Least-squares slope of log(error) against log(dt).
template <class Alg>
double MeasuredOrder(std::vector<double> dts) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (double dt : dts) {
    const double x = std::log(dt), y = std::log(FinalError<Alg>(dt));
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double n = static_cast<double>(dts.size());
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

TEST(Convergence, EulerIsFirstOrder) {
  EXPECT_NEAR(MeasuredOrder<Euler>({0.01, 0.005, 0.0025, 0.00125}), 1.0, 0.3);
}

TEST(Convergence, Rk4IsFourthOrder) {
  EXPECT_NEAR(MeasuredOrder<RK4>({0.2, 0.1, 0.05, 0.025}), 4.0, 0.3);
}

TEST(Convergence, Tsit5IsFifthOrder) {
  EXPECT_NEAR(MeasuredOrder<Tsit5>({0.1, 0.05, 0.025}), 5.0, 0.3);
}

TEST(Convergence, FixedStepCountsSteps) {
  auto r = SolveScalar<RK4, double>(3, Rhs<double>, {1.0, 1.0, 0.0}, {}, Fixed(2.0, 0.01));
  EXPECT_EQ(r.accepted, 200);
  EXPECT_EQ(r.rejected, 0);
  EXPECT_EQ(r.rhs_evals, 800);
  // A step that does not divide the span: the last step is shortened to land on t1.
  r = SolveScalar<RK4, double>(3, Rhs<double>, {1.0, 1.0, 0.0}, {}, Fixed(2.0, 0.3));
  EXPECT_EQ(r.accepted, 7);
  EXPECT_LT(std::abs(r.saved[0][1] - std::cos(2.0)), 1e-3);
}

// Dense output at save points between steps is as accurate as the interpolant's order.
template <class Alg>
double DenseError(double dt) {
  std::vector<double> saveat;
  for (int i = 0; i <= 20; ++i) saveat.push_back(0.1 * i + (i > 0 && i < 20 ? 0.0123 : 0));
  auto r = SolveScalar<Alg, double>(3, Rhs<double>, {1.0, 1.0, 0.0}, saveat, Fixed(2.0, dt));
  EXPECT_EQ(r.saved.size(), saveat.size());
  double e = 0;
  for (size_t k = 0; k < saveat.size(); ++k) {
    for (int i = 0; i < 3; ++i) e = std::max(e, std::abs(r.saved[k][i] - Exact(i, saveat[k])));
  }
  return e;
}

TEST(DenseOutput, InterpolantsConverge) {
  // Euler's line is first order; RK4's extension third; Tsit5's free interpolant fourth.
  EXPECT_NEAR(std::log2(DenseError<Euler>(0.002) / DenseError<Euler>(0.001)), 1.0, 0.3);
  // Over two halvings, so where the save points fall inside steps averages out.
  EXPECT_NEAR(std::log2(DenseError<RK4>(0.1) / DenseError<RK4>(0.025)) / 2, 3.0, 0.5);
  EXPECT_GT(std::log2(DenseError<Tsit5>(0.2) / DenseError<Tsit5>(0.05)) / 2, 3.7);
  EXPECT_LT(DenseError<Tsit5>(0.0125), 1e-12);
}

TEST(DenseOutput, SavesAtStartAndEnd) {
  auto r =
      SolveScalar<Tsit5, double>(3, Rhs<double>, {1.0, 1.0, 0.0}, {0.0, 2.0}, Adaptive(2.0, 1e-8));
  ASSERT_EQ(r.saved.size(), 2u);
  EXPECT_EQ(r.saved[0][0], 1.0);
  EXPECT_NEAR(r.saved[1][0], Exact(0, 2.0), 1e-6);
}

TEST(Adaptive, ErrorFollowsTolerance) {
  double previous = 1;
  for (double tol : {1e-4, 1e-6, 1e-8, 1e-10}) {
    auto r = SolveScalar<Tsit5, double>(3, Rhs<double>, {1.0, 1.0, 0.0}, {}, Adaptive(10.0, tol));
    ASSERT_EQ(r.retcode, kRetSuccess);
    double e = 0;
    for (int i = 0; i < 3; ++i) e = std::max(e, std::abs(r.saved[0][i] - Exact(i, 10.0)));
    EXPECT_LT(e, 200 * tol) << tol;
    EXPECT_LT(e, previous);
    previous = e;
  }
}

TEST(Adaptive, RejectsStepsOnAHardStart) {
  // A fast transient: u' = -1000 (u - cos t); the controller must reject some steps.
  auto rhs = [](double t, const double* u, double* du) { du[0] = -1000.0 * (u[0] - std::cos(t)); };
  Controls<double> c = Adaptive(1.0, 1e-6);
  c.dt = 0.1;  // far too large a first step
  auto r = SolveScalar<Tsit5, double>(1, rhs, {0.0}, {}, c);
  EXPECT_EQ(r.retcode, kRetSuccess);
  EXPECT_GT(r.rejected, 0);
  // Past the transient u = (1e6 cos t + 1e3 sin t) / (1e6 + 1).
  EXPECT_NEAR(r.saved[0][0], (1e6 * std::cos(1.0) + 1e3 * std::sin(1.0)) / (1e6 + 1), 1e-5);
}

TEST(Adaptive, Float32) {
  auto r = SolveScalar<Tsit5, float>(3, Rhs<float>, {1.0f, 1.0f, 0.0f}, {}, Adaptive(5.0f, 1e-5f));
  ASSERT_EQ(r.retcode, kRetSuccess);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(r.saved[0][i], Exact(i, 5.0), 5e-4);
}

// u' = u², u(0) = 1: u = 1 / (1 - t) blows up at t = 1.
void BlowUp(double, const double* u, double* du) { du[0] = u[0] * u[0]; }

TEST(ReturnCodes, BlowUpFixedStepIsUnstable) {
  auto r = SolveScalar<RK4, double>(1, BlowUp, {1.0}, {}, Fixed(2.0, 0.01));
  EXPECT_EQ(r.retcode, kRetUnstable);
  EXPECT_LT(r.accepted, 200);  // stopped near the singularity, not at t = 2
  EXPECT_GT(r.accepted, 90);
}

TEST(ReturnCodes, BlowUpAdaptiveStepFallsBelowMinimum) {
  auto r = SolveScalar<Tsit5, double>(1, BlowUp, {1.0}, {}, Adaptive(2.0, 1e-6));
  EXPECT_EQ(r.retcode, kRetDtBelowMin);
  EXPECT_GT(r.saved[0][0], 1e6);  // it got close to t = 1
}

TEST(ReturnCodes, MaxSteps) {
  Controls<double> c = Fixed(2.0, 0.01);
  c.max_steps = 50;
  auto r = SolveScalar<Euler, double>(3, Rhs<double>, {1.0, 1.0, 0.0}, {}, c);
  EXPECT_EQ(r.retcode, kRetMaxSteps);
  EXPECT_EQ(r.accepted, 50);
  // The state at the stop is u(0.5), solved by Euler.
  EXPECT_NEAR(r.saved[0][1], std::cos(0.5), 1e-2);
}

TEST(ReturnCodes, NanRhsIsUnstable) {
  auto rhs = [](double t, const double* u, double* du) { du[0] = t > 0.5 ? std::log(-1.0) : u[0]; };
  auto r = SolveScalar<Euler, double>(1, rhs, {1.0}, {}, Fixed(1.0, 0.1));
  EXPECT_EQ(r.retcode, kRetUnstable);
}

}  // namespace
}  // namespace ensolve::alg
