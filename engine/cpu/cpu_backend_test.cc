// The CPU backend end to end: model text in, ensembles out. Checked against float64
// references from two independent integrators, against the one-trajectory reference driver
// (exact equality: lanes, masks and refills must not change any trajectory's result), and
// against the acceptance problems' bounds (shared/acceptance/PROBLEMS.md, problems 1 and 2).
#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/algorithms/dispatch.h"
#include "engine/algorithms/euler.h"
#include "engine/algorithms/rk4.h"
#include "engine/algorithms/scalar_context.h"
#include "engine/algorithms/table.h"
#include "engine/algorithms/tsit5.h"
#include "engine/backend.h"
#include "engine/cpu/isa.h"
#include "engine/cpu/pack.h"
#include "engine/cpu/tape_eval.h"
#include "engine/ir/tape.h"
#include "engine/testing/initial_state.h"
#include "engine/testing/lorenz.h"
#include "engine/testing/robertson.h"
#include "engine/testing/slices.h"
#include "engine/testing/solve_options.h"
#include "engine/testing/spans.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

using testing::Adaptive;
using testing::Fixed;
using testing::kLorenz;
using testing::LorenzReference;

std::unique_ptr<Model> Parse(const char* src) {
  auto m = Model::Parse(src);
  EXPECT_TRUE(m.ok()) << m.status();
  return std::move(*m);
}

struct Solver {
  std::unique_ptr<Model> model;
  std::unique_ptr<Backend> backend;

  explicit Solver(const char* src, int threads = 0)
      : model(Parse(src)), backend(NewCpuBackend(threads)) {}

  absl::StatusOr<BatchResult> Solve(const SolveOptions& o, const BatchInputs& in) {
    EXPECT_TRUE(ValidateOptions(o).ok()) << ValidateOptions(o);
    auto prepared = backend->Prepare(*model, o);
    if (!prepared.ok()) return prepared.status();
    return backend->Solve(**prepared, o, in);
  }
};

double Dist(const BatchResult& r, int64_t traj, int save, const std::vector<double>& ref) {
  double s = 0;
  for (int i = 0; i < 3; ++i) s += std::pow(r.state(traj, save, i) - ref[i], 2);
  return std::sqrt(s);
}

// Problem 1 (float32 unless said): Lorenz, t in [0, 10].
TEST(AcceptanceProblem1, FixedStepFinalState) {
  Solver s(kLorenz);
  const auto ref = LorenzReference(28, {10.0});
  for (Precision p : {Precision::kFloat32, Precision::kFloat64}) {
    auto r = s.Solve(Fixed(Algorithm::kTsit5, 10, 0.01, p), BatchInputs{1});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->retcodes[0], RetCode::kSuccess);
    EXPECT_EQ(r->stats[0].accepted, 1000);
    EXPECT_LT(Dist(*r, 0, 0, ref[0]), 5e-3) << PrecisionName(p);
  }
}

// Problem 1's fixed-step bound holds for tsit5, vern7 and vern9 (PROBLEMS.md), and dp5; the
// save points (fixed step) through the dense output, whose Verner stages are evaluated
// lazily inside packs whose lanes disagree about having a save point in a step.
TEST(AcceptanceProblem1, FixedStepFinalStateEveryExplicitPair) {
  Solver s(kLorenz);
  const auto ref = LorenzReference(28, {10.0});
  for (Algorithm a : {Algorithm::kDP5, Algorithm::kVern7, Algorithm::kVern9}) {
    for (Precision p : {Precision::kFloat32, Precision::kFloat64}) {
      auto r = s.Solve(Fixed(a, 10, 0.01, p), BatchInputs{1});
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->retcodes[0], RetCode::kSuccess);
      EXPECT_EQ(r->stats[0].accepted, 1000);
      EXPECT_LT(Dist(*r, 0, 0, ref[0]), 5e-3) << AlgorithmName(a) << " " << PrecisionName(p);
    }
  }
}

TEST(AcceptanceProblem1, SaveAtEveryExplicitPair) {
  Solver s(kLorenz);
  std::vector<double> times;
  for (int i = 0; i <= 100; ++i) times.push_back(0.1 * i);
  const auto two = LorenzReference(28, {2.0, 4.0});
  const auto ref = LorenzReference(28, times);
  for (Algorithm a : {Algorithm::kDP5, Algorithm::kVern7, Algorithm::kVern9}) {
    SolveOptions o = Fixed(a, 10, 0.01, Precision::kFloat32);
    o.saveat = {2.0, 4.0};
    auto r = s.Solve(o, BatchInputs{1});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->num_save, 2);
    EXPECT_LT(Dist(*r, 0, 0, two[0]), 5e-4) << AlgorithmName(a);
    EXPECT_LT(Dist(*r, 0, 1, two[1]), 5e-4) << AlgorithmName(a);
    o.saveat = times;
    r = s.Solve(o, BatchInputs{1});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->num_save, 101);
    double worst = 0;
    for (int k = 0; k <= 100; ++k) worst = std::max(worst, Dist(*r, 0, k, ref[k]));
    EXPECT_LT(worst, 5e-3) << AlgorithmName(a);
  }
}

TEST(AcceptanceProblem1, AdaptiveFinalState) {
  Solver s(kLorenz);
  const auto ref = LorenzReference(28, {10.0});
  for (Precision p : {Precision::kFloat32, Precision::kFloat64}) {
    auto r = s.Solve(Adaptive(10, 1e-7, p), BatchInputs{1});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->retcodes[0], RetCode::kSuccess);
    EXPECT_LT(Dist(*r, 0, 0, ref[0]), 1e-3) << PrecisionName(p);
  }
}

TEST(AcceptanceProblem1, SaveAtTwoPoints) {
  Solver s(kLorenz);
  const auto ref = LorenzReference(28, {2.0, 4.0});
  SolveOptions o = Fixed(Algorithm::kTsit5, 10, 0.01, Precision::kFloat32);
  o.saveat = {2.0, 4.0};
  auto r = s.Solve(o, BatchInputs{1});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->num_save, 2);
  EXPECT_LT(Dist(*r, 0, 0, ref[0]), 5e-4);
  EXPECT_LT(Dist(*r, 0, 1, ref[1]), 5e-4);
}

TEST(AcceptanceProblem1, SaveEveryTenth) {
  Solver s(kLorenz);
  std::vector<double> times;
  for (int i = 0; i <= 100; ++i) times.push_back(0.1 * i);
  const auto ref = LorenzReference(28, times);
  SolveOptions fixed = Fixed(Algorithm::kTsit5, 10, 0.01, Precision::kFloat32);
  SolveOptions adaptive = Adaptive(10, 1e-7, Precision::kFloat32);
  for (auto [o, bound] : {std::pair{fixed, 5e-3}, std::pair{adaptive, 1e-2}}) {
    o.saveat = times;
    auto r = s.Solve(o, BatchInputs{1});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->num_save, 101);
    double worst = 0;
    for (int k = 0; k <= 100; ++k) worst = std::max(worst, Dist(*r, 0, k, ref[k]));
    EXPECT_LT(worst, bound) << (o.adaptive ? "adaptive" : "fixed");
  }
}

// Problem 2: rho = linspace(0, 21, N), t in [0, 1]; every trajectory within a bound
// proportional to the tolerance (or the step's error) of a float64 reference.
TEST(AcceptanceProblem2, EnsembleWithinBounds) {
  Solver s(kLorenz);
  const int n = 512;
  std::vector<double> p(3 * n);
  for (int i = 0; i < n; ++i) {
    p[3 * i] = 10;
    p[3 * i + 1] = 21.0 * i / (n - 1);
    p[3 * i + 2] = 8.0 / 3.0;
  }
  const BatchInputs in{n, nullptr, 1, p.data(), n};
  struct Case {
    SolveOptions o;
    double bound;  // relative to max(1, |u|)
  };
  const Case cases[] = {
      // The step's own error, then float32 rounding, then 10x the tolerance.
      {Fixed(Algorithm::kTsit5, 1, 1e-3, Precision::kFloat64), 1e-11},
      {Fixed(Algorithm::kTsit5, 1, 1e-3, Precision::kFloat32), 1e-5},
      {Adaptive(1, 1e-6, Precision::kFloat64), 1e-5},
      {Adaptive(1, 1e-6, Precision::kFloat32), 1e-5},
  };
  std::vector<std::vector<double>> refs;
  for (int i = 0; i < n; ++i) refs.push_back(LorenzReference(p[3 * i + 1], {1.0})[0]);
  for (const Case& c : cases) {
    auto r = s.Solve(c.o, in);
    ASSERT_TRUE(r.ok()) << r.status();
    double worst = 0;
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(r->retcodes[i], RetCode::kSuccess);
      const std::vector<double>& ref = refs[i];
      double scale = 1;
      for (double v : ref) scale = std::max(scale, std::abs(v));
      worst = std::max(worst, Dist(*r, i, 0, ref) / scale);
    }
    EXPECT_LT(worst, c.bound) << PrecisionName(c.o.precision) << " adaptive=" << c.o.adaptive;
  }
}

// The pack driver (W lanes, masks, refills, many threads) gives every trajectory exactly
// the result of the one-trajectory driver on the same tape.
template <class Alg, class T>
void ExpectSameAsScalar(const SolveOptions& o) {
  Solver s(kLorenz, 2);
  const ir::Tape tape = ir::CompileTape(s.model->graph(), s.model->rhs(), 3, 3);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uni(0, 1);
  const int n = 301;  // not a multiple of the pack width
  std::vector<double> u0(3 * n), p(3 * n);
  for (int i = 0; i < 3 * n; ++i) {
    u0[i] = uni(rng) * 10 - 5;
    p[i] = uni(rng) * (i % 3 == 0 ? 10 : i % 3 == 1 ? 28 : 8.0 / 3);
  }
  auto r = s.Solve(o, BatchInputs{n, u0.data(), n, p.data(), n});
  ASSERT_TRUE(r.ok());
  alg::Controls<T> c{T(o.t0),
                     T(o.t1),
                     T(o.dt),
                     T(o.abstol),
                     T(o.reltol),
                     T(o.dtmin),
                     static_cast<int>(o.max_steps),
                     o.adaptive};
  std::vector<T> saveat(o.saveat.begin(), o.saveat.end());
  for (int i = 0; i < n; ++i) {
    std::vector<cpu::Pack<T, 1>> regs(tape.num_regs, cpu::Pack<T, 1>(T(0)));
    for (size_t k = 0; k < tape.consts.size(); ++k) regs[tape.const_reg(k)] = T(tape.consts[k]);
    for (int j = 0; j < 3; ++j) regs[tape.param_reg(j)] = T(p[3 * i + j]);
    auto rhs = [&](T t, const T* u, T* du) {
      regs[0] = t;
      for (int j = 0; j < 3; ++j) regs[1 + j] = u[j];
      cpu::RunTape(tape, regs.data());
      for (int j = 0; j < 3; ++j) du[j] = regs[tape.roots[j]].v[0];
    };
    std::vector<T> start = {T(u0[3 * i]), T(u0[3 * i + 1]), T(u0[3 * i + 2])};
    auto ref = alg::SolveScalar<Alg, T>(3, rhs, start, saveat, c);
    ASSERT_EQ(static_cast<int>(r->retcodes[i]), ref.retcode) << i;
    ASSERT_EQ(r->stats[i].accepted, ref.accepted) << i;
    ASSERT_EQ(r->stats[i].rejected, ref.rejected) << i;
    ASSERT_EQ(r->stats[i].rhs_evals, ref.rhs_evals) << i;
    for (int k = 0; k < r->num_save; ++k) {
      for (int j = 0; j < 3; ++j) ASSERT_EQ(r->state(i, k, j), ref.saved[k][j]) << i << " " << k;
    }
  }
}

TEST(Lanes, AdaptiveTsit5MatchesScalarDriverExactly) {
  SolveOptions o = Adaptive(3, 1e-6, Precision::kFloat64);
  o.saveat = {0, 0.5, 1.25, 2.999, 3};
  ExpectSameAsScalar<alg::Tsit5, double>(o);
  o.precision = Precision::kFloat32;
  ExpectSameAsScalar<alg::Tsit5, float>(o);
}

TEST(Lanes, FixedStepMatchesScalarDriverExactly) {
  ExpectSameAsScalar<alg::Euler, double>(Fixed(Algorithm::kEuler, 1, 0.01, Precision::kFloat64));
  ExpectSameAsScalar<alg::RK4, float>(Fixed(Algorithm::kRK4, 1, 0.01, Precision::kFloat32));
  SolveOptions o = Fixed(Algorithm::kTsit5, 1, 0.03, Precision::kFloat64);
  o.saveat = {0.1, 0.2, 0.7};
  ExpectSameAsScalar<alg::Tsit5, double>(o);
}

// The explicit pairs of explicit_rk.h, save points included: a pack evaluates the Verner
// interpolants' extra stages for all its lanes when any lane has a save point in the step,
// which must change no lane's result or counts.
TEST(Lanes, ExplicitPairsMatchScalarDriverExactly) {
  SolveOptions o = Adaptive(3, 1e-6, Precision::kFloat64);
  o.saveat = {0, 0.5, 0.51, 1.25, 2.999, 3};
  for (Algorithm a : {Algorithm::kDP5, Algorithm::kVern7, Algorithm::kVern9}) {
    o.algorithm = a;
    SCOPED_TRACE(AlgorithmName(a));
    o.precision = Precision::kFloat64;
    alg::Dispatch(a,
                  [&](auto tag) { ExpectSameAsScalar<typename decltype(tag)::type, double>(o); });
    o.precision = Precision::kFloat32;
    alg::Dispatch(a, [&](auto tag) { ExpectSameAsScalar<typename decltype(tag)::type, float>(o); });
  }
  ExpectSameAsScalar<alg::Vern9, double>(Fixed(Algorithm::kVern9, 1, 0.03, Precision::kFloat64));
}

TEST(Lanes, MaxStepsMixedWithSuccess) {
  // Lanes that hit max_steps beside lanes that finish must not disturb each other.
  SolveOptions o = Adaptive(20, 1e-8, Precision::kFloat64);
  o.max_steps = 300;
  ExpectSameAsScalar<alg::Tsit5, double>(o);
}

TEST(ReturnCodes, BlowUpAndMaxSteps) {
  Solver s("state u = 1\nu' = u^2\n");
  auto r = s.Solve(Fixed(Algorithm::kRK4, 2, 0.01, Precision::kFloat64), BatchInputs{3});
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r->retcodes[i], RetCode::kUnstable);
  r = s.Solve(Adaptive(2, 1e-6, Precision::kFloat64), BatchInputs{3});
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r->retcodes[i], RetCode::kDtBelowMin);
  r = s.Solve(Adaptive(2, 1e-6, Precision::kFloat32), BatchInputs{3});
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r->retcodes[i], RetCode::kDtBelowMin);
  SolveOptions o = Fixed(Algorithm::kEuler, 0.5, 0.001, Precision::kFloat64);
  o.max_steps = 100;
  r = s.Solve(o, BatchInputs{2});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->retcodes[0], RetCode::kMaxSteps);
  EXPECT_EQ(r->stats[1].accepted, 100);
  EXPECT_NEAR(r->state(1, 0, 0), 1 / (1 - 0.1), 1e-3);  // stopped at t = 0.1
}

TEST(Inputs, SharedRowsDefaultsAndShapeErrors) {
  Solver s(kLorenz);
  const SolveOptions o = Fixed(Algorithm::kRK4, 1, 0.01, Precision::kFloat64);
  // Defaults (u0 = (1, 0, 0), p = (10, 28, 8/3)) equal the same values passed explicitly.
  const double u0[] = {1, 0, 0}, p[] = {10, 28, 8.0 / 3.0};
  auto a = s.Solve(o, BatchInputs{4});
  auto b = s.Solve(o, BatchInputs{4, u0, 1, p, 1});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->states_f64, b->states_f64);
  auto bad = s.Solve(o, BatchInputs{4, u0, 2, p, 1});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "u0: has 2 rows; expected 1 (shared) or 4 (one per trajectory)");
  bad = s.Solve(o, BatchInputs{4, u0, 1, p, 3});
  EXPECT_EQ(bad.status().message(),
            "params: has 3 rows; expected 1 (shared) or 4 (one per trajectory)");
  auto empty = s.Solve(o, BatchInputs{0});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->count, 0);
}

TEST(Inputs, InitialStatesFollowEachTrajectorysParameters) {
  auto backend = NewCpuBackend();
  testing::ExpectInitialStatesFollowParameters(*backend);
}

// Per-trajectory spans and save times (forward and backward, in packs whose lanes all
// differ) equal separate solves bitwise, for every method of the table.
TEST(Inputs, PerTrajectorySpansEqualSeparateSolves) {
  auto backend = NewCpuBackend(2);
  testing::ExpectSpansEqualSeparateSolvesForEveryMethod(*backend, std::random_device{}());
}

// Per-trajectory spans the options do not announce, or announced save times missing, are
// refused.
TEST(Inputs, PerTrajectorySpansMustMatchTheOptions) {
  Solver s(kLorenz);
  const std::vector<double> t1 = {1.0, 2.0};
  BatchInputs in{2};
  in.t1 = t1.data();
  SolveOptions o = Adaptive(1, 1e-6, Precision::kFloat64);
  auto r = s.Solve(o, in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "span_per_trajectory")) << r.status();
  o.span_per_trajectory = true;
  o.saveat_per_trajectory = 3;
  r = s.Solve(o, in);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "no save times")) << r.status();
}

// A batch cut into slices (BatchInputs::slice_seconds), each continuing the last one's
// result, gives bitwise the unsliced result, for every method of the table, with and
// without save points.
TEST(Slices, SlicedBatchEqualsUnslicedBitwise) {
  auto model = Parse(kLorenz);
  auto backend = NewCpuBackend(2);
  const uint32_t seed = std::random_device{}();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uni(0, 1);
  const int64_t count = 301;
  std::vector<double> p;
  for (int64_t k = 0; k < count; ++k) {
    p.insert(p.end(), {5 + 10 * uni(rng), 30 * uni(rng), 1 + 2 * uni(rng)});
  }
  const BatchInputs in{count, nullptr, 1, p.data(), count};
  for (int i = 0; i < kNumAlgorithms; ++i) {
    const AlgorithmInfo& info = AlgorithmTable()[i];
    if (info.stochastic) continue;  // SDE methods: sde_test
    SolveOptions o = info.adaptive ? Adaptive(3, 1e-8, Precision::kFloat64)
                                   : Fixed(info.algorithm, 3, 1e-3, Precision::kFloat64);
    o.algorithm = info.algorithm;
    for (bool with_saveat : {false, true}) {
      o.saveat = with_saveat ? std::vector<double>{0, 0.5, 1.7, 3} : std::vector<double>{};
      SCOPED_TRACE(::testing::Message()
                   << info.name << (with_saveat ? " saveat" : "") << " seed " << seed);
      auto prepared = backend->Prepare(*model, o);
      ASSERT_TRUE(prepared.ok()) << prepared.status();
      auto run = testing::SolveInSlices(*backend, **prepared, o, in);
      auto& whole = run.whole;
      auto& r = run.sliced;
      const int slices = run.slices;
      ASSERT_TRUE(whole.ok()) << whole.status();
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(r->resume.Unfinished(), 0);
      EXPECT_GT(slices, 2);
      const size_t values = whole->states_f64.size();
      EXPECT_TRUE(testing::SameBits(whole->states_f64.data(), r->states_f64.data(), values));
      for (int64_t k = 0; k < count; ++k) {
        ASSERT_EQ(whole->retcodes[k], r->retcodes[k]) << k;
        ASSERT_TRUE(testing::SameBits(&whole->t_final[k], &r->t_final[k], 1)) << k;
        ASSERT_EQ(whole->stats[k].accepted, r->stats[k].accepted) << k;
        ASSERT_EQ(whole->stats[k].rejected, r->stats[k].rejected) << k;
        ASSERT_EQ(whole->stats[k].rhs_evals, r->stats[k].rhs_evals) << k;
      }
    }
  }
}

// A stiff method on a model past the backend's limit is refused by name, before any work.
TEST(Inputs, StiffMethodsRefuseModelsPastTheLimit) {
  std::string src;
  for (int i = 0; i <= kMaxStiffStatesCpu; ++i) absl::StrAppend(&src, "state u", i, " = 1\n");
  for (int i = 0; i <= kMaxStiffStatesCpu; ++i) absl::StrAppend(&src, "u", i, "' = -u", i, "\n");
  ModelLimits limits;
  limits.max_states = 1000;
  auto model = Model::Parse(src, limits);
  ASSERT_TRUE(model.ok()) << model.status();
  auto backend = NewCpuBackend(1);
  SolveOptions o = testing::Adaptive(1, 1e-6, Precision::kFloat64);
  o.algorithm = Algorithm::kRodas5P;
  auto prepared = backend->Prepare(**model, o);
  EXPECT_EQ(prepared.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(prepared.status().message(),
            absl::StrCat("model: ", kMaxStiffStatesCpu + 1,
                         " states exceed the CPU backend's "
                         "limit of ",
                         kMaxStiffStatesCpu,
                         " states for rodas5p (it keeps an n x "
                         "n matrix per trajectory); use an explicit method or fewer states"));
  o.algorithm = Algorithm::kTsit5;  // explicit methods have no such limit
  EXPECT_TRUE(backend->Prepare(**model, o).ok());
}

TEST(Threads, ResultsDoNotDependOnThreadCount) {
  std::vector<double> p(3 * 200);
  for (int i = 0; i < 200; ++i) {
    p[3 * i] = 10;
    p[3 * i + 1] = 0.1 * i;
    p[3 * i + 2] = 8.0 / 3.0;
  }
  const SolveOptions o = Adaptive(5, 1e-8, Precision::kFloat64);
  Solver one(kLorenz, 1), three(kLorenz, 3);
  auto a = one.Solve(o, BatchInputs{200, nullptr, 1, p.data(), 200});
  auto b = three.Solve(o, BatchInputs{200, nullptr, 1, p.data(), 200});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->states_f64, b->states_f64);
}

TEST(Cancel, CancelledBatchReturnsCancelled) {
  Solver s(kLorenz);
  const SolveOptions o = Adaptive(100, 1e-10, Precision::kFloat64);
  auto prepared = s.backend->Prepare(*s.model, o);
  ASSERT_TRUE(prepared.ok());
  CancelFlag cancel{true};
  auto r = s.backend->Solve(**prepared, o, BatchInputs{1000}, &cancel);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
}

TEST(Options, ValidationNamesTheField) {
  SolveOptions o;
  o.t1 = 0;
  EXPECT_EQ(ValidateOptions(o).message(), "t1: must differ from t0 (both are 0)");
  o.t1 = -1;  // backward: save times descend
  o.saveat = {-0.5, -0.25};
  EXPECT_EQ(ValidateOptions(o).message(),
            "saveat[1]: -0.25 is not less than saveat[0] = -0.5; save times must be strictly "
            "decreasing (t1 < t0 integrates backward)");
  o.saveat = {-0.25, -0.5};
  EXPECT_TRUE(ValidateOptions(o).ok());
  o = SolveOptions();
  o.saveat = {0.5, 0.25};
  EXPECT_EQ(ValidateOptions(o).message(),
            "saveat[1]: 0.25 is not greater than saveat[0] = 0.5; save times must be strictly "
            "increasing");
  o = SolveOptions();
  o.algorithm = Algorithm::kRK4;
  EXPECT_EQ(ValidateOptions(o).message(),
            "adaptive: rk4 has no error estimate; use a fixed step (adaptive = false, dt > 0)");
  o.adaptive = false;
  EXPECT_EQ(ValidateOptions(o).message(), "dt: a fixed-step solve needs dt > 0");
  // The list of names follows the algorithm table (rows are added there).
  std::string names;
  for (int i = 0; i < kNumAlgorithms; ++i) {
    absl::StrAppend(&names, i > 0 ? ", " : "", AlgorithmTable()[i].name);
  }
  EXPECT_TRUE(absl::StartsWith(names, "euler, rk4, tsit5, dp5")) << names;
  EXPECT_EQ(ParseAlgorithm("rk45").status().message(),
            absl::StrCat("algorithm: unknown algorithm 'rk45'; expected one of ", names));
  EXPECT_EQ(ParseAlgorithm(std::string(100000, 'x')).status().message(),
            absl::StrCat("algorithm: unknown algorithm '", std::string(64, 'x'),
                         "...'; expected one of ", names));
}

// Every instruction set's build of the solve code (isa.h) gives the same bits, so that the
// batches of one job may run on different machines: every tape operation, the step-size
// controller, dense output, an explicit, a Rosenbrock and an ESDIRK method, both precisions,
// in packs that are refilled (the count is no multiple of any pack width).
TEST(Isa, EveryInstructionSetGivesTheSameBits) {
  constexpr char kEveryOp[] = R"(# every operation of the tape
state a = 0.5, b = 1, c = 0.1
param k = 1.5, w = 2
let s = sin(w*t) + cos(a) - tan(0.1*b) + asin(0.5*tanh(c)) + acos(0.3) + atan(b)
let g = sinh(0.1*a) * cosh(0.1*c) + log10(1 + b^2) + floor(2*a) - ceil(c) + sign(a - b)
a' = -k*a + s*tanh(b) + 0.01*g
b' = exp(-b^2/4) - sqrt(abs(c) + 1)*b + ifelse(a > 0.3 && b <= 2 || !(c < 0), 0.1, -0.1)
c' = atan2(a, b) - log(1 + c^2) + min(a, b)^2 - max(a, c)/(1 + b^2) + pow(abs(a), 1.5) - (a >= c) + (b == c) - (a != b) / 2
)";
  struct Run {
    const char* model;
    SolveOptions options;
  };
  std::vector<Run> runs;
  for (Precision p : {Precision::kFloat32, Precision::kFloat64}) {
    SolveOptions o = Adaptive(3, 1e-6, p);
    o.saveat = {0, 0.5, 1.25, 2.999, 3};
    runs.push_back({kLorenz, o});
    runs.push_back({kEveryOp, o});
    o.algorithm = Algorithm::kVern9;
    runs.push_back({kEveryOp, o});
    runs.push_back({kEveryOp, Fixed(Algorithm::kRK4, 2, 0.01, p)});
    SolveOptions stiff = Adaptive(100, 1e-6, p);
    stiff.saveat = {1, 10, 100};
    stiff.algorithm = Algorithm::kRodas5P;
    runs.push_back({testing::kRobertson, stiff});
    stiff.algorithm = Algorithm::kKvaerno5;
    runs.push_back({testing::kRobertson, stiff});
  }
  const int n = 77;
  std::vector<double> p(3 * n);
  for (int i = 0; i < 3 * n; ++i) p[i] = 0.5 + 0.01 * i;
  for (const Run& run : runs) {
    SCOPED_TRACE(absl::StrCat(AlgorithmName(run.options.algorithm), " ",
                              PrecisionName(run.options.precision), " ", run.model));
    std::unique_ptr<Model> model = Parse(run.model);
    const bool lorenz = run.model == kLorenz;
    const int np = model->num_params();
    std::vector<double> params(p.begin(), p.begin() + np * n);
    if (lorenz) {
      for (int i = 0; i < n; ++i) params[3 * i + 1] = 0.3 * i;
    }
    const BatchInputs in{n, nullptr, 1, np > 0 ? params.data() : nullptr, np > 0 ? n : 1};
    std::optional<BatchResult> first;
    for (CpuIsa isa : kCpuIsas) {
      if (!CpuIsaSupported(isa)) continue;
      SCOPED_TRACE(CpuIsaName(isa));
      auto backend = NewCpuBackend(2, isa);
      auto prepared = backend->Prepare(*model, run.options);
      ASSERT_TRUE(prepared.ok()) << prepared.status();
      auto r = backend->Solve(**prepared, run.options, in);
      ASSERT_TRUE(r.ok()) << r.status();
      for (int i = 0; i < n; ++i) ASSERT_EQ(r->retcodes[i], RetCode::kSuccess) << i;
      if (!first) {
        first = *std::move(r);
        continue;
      }
      EXPECT_TRUE(r->states_f32 == first->states_f32);
      EXPECT_TRUE(r->states_f64 == first->states_f64);
      EXPECT_TRUE(r->t_final == first->t_final);
      for (int i = 0; i < n; ++i) {
        EXPECT_EQ(r->stats[i].accepted, first->stats[i].accepted) << i;
        EXPECT_EQ(r->stats[i].rejected, first->stats[i].rejected) << i;
        EXPECT_EQ(r->stats[i].rhs_evals, first->stats[i].rhs_evals) << i;
      }
    }
  }
}

TEST(Isa, EnvironmentNamesTheInstructionSet) {
  EXPECT_EQ(*ParseCpuIsa(""), BestCpuIsa());
  EXPECT_EQ(*ParseCpuIsa("auto"), BestCpuIsa());
  EXPECT_EQ(*ParseCpuIsa("sse2"), CpuIsa::kSse2);
  EXPECT_TRUE(CpuIsaSupported(CpuIsa::kSse2));
  EXPECT_EQ(ParseCpuIsa("avx9").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCpuIsa("avx9").status().message(),
            "ENSOLVE_CPU_ISA=avx9: expected sse2, avx2, avx512 or auto");
  for (CpuIsa isa : kCpuIsas) {
    EXPECT_EQ(ParseCpuIsa(CpuIsaName(isa)).ok(), CpuIsaSupported(isa)) << CpuIsaName(isa);
    EXPECT_GE(CpuIsaLanes(isa, Precision::kFloat32), CpuIsaLanes(isa, Precision::kFloat64));
  }
}

}  // namespace
}  // namespace ensolve
