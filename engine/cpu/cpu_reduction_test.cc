// Reductions in the CPU backend: each batch's statistics, merged across batches in order,
// equal the statistics of the full output computed in the test (two passes, long double,
// from the streamed states) to rounding, for batch sizes 1, 7 and 10,000 and 1, 2 and 3
// threads; histogram counts exactly; failed trajectories and NaN outputs left out and
// counted. Without keep_states a batch returns the statistics alone.
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/backend.h"
#include "engine/sampler.h"
#include "engine/testing/reduction_reference.h"
#include "gtest/gtest.h"

namespace ensolve {
namespace {

// Growth with rates drawn from [-1, 30]: fast ones run out of max_steps (failures), and
// `root` is NaN where x < 1 (non-finite outputs of successful trajectories).
constexpr char kModel[] = R"(
state x = 0.1
param mu = 1.5
output root = sqrt(x - 1)
output logx = log(x)
x' = mu*x
)";

struct Fixture {
  std::unique_ptr<Model> model;
  SolveOptions options;
  std::optional<Sampler> sampler;
  ReductionSpec spec;
};

Fixture Make() {
  Fixture f;
  auto m = Model::Parse(kModel);
  EXPECT_TRUE(m.ok()) << m.status();
  f.model = *std::move(m);
  f.options.t1 = 1;
  f.options.saveat = {0, 0.25, 0.5, 0.75, 1};
  f.options.abstol = f.options.reltol = 1e-8;
  f.options.max_steps = 60;
  f.options.outputs = {"x", "root", "logx"};
  SamplerSpec s;
  s.kind = SamplerKind::kUniform;
  s.seed = 42;
  s.a = {-1};
  s.b = {30};
  absl::StatusOr<Sampler> sampler = Sampler::Create(s, 1, "params.sampler.uniform");
  EXPECT_TRUE(sampler.ok()) << sampler.status();
  f.sampler.emplace(*std::move(sampler));
  f.spec.num_save = 5;
  f.spec.width = 3;
  f.spec.bins = 8;
  f.spec.edges = {-3, -1, 0, 0.5, 1, 2, 10, 100, 1000};
  return f;
}

// Solves trajectories [0, n) in batches of `batch`, merging each batch's reduction in
// order; the full states (keep_states) into *states/*codes.
absl::StatusOr<Reduction> SolveReduced(const Fixture& f, Backend& backend, int64_t n, int64_t batch,
                                       std::vector<double>* states, std::vector<uint8_t>* codes) {
  absl::StatusOr<std::unique_ptr<PreparedModel>> prepared = backend.Prepare(*f.model, f.options);
  if (!prepared.ok()) return prepared.status();
  Reduction all;
  all.Reset(f.spec);
  for (int64_t first = 0; first < n; first += batch) {
    BatchInputs in;
    in.count = std::min(batch, n - first);
    in.first = first;
    in.p_sampler = &*f.sampler;
    in.reduction = &f.spec;
    absl::StatusOr<BatchResult> r = backend.Solve(**prepared, f.options, in);
    if (!r.ok()) return r.status();
    if (!r->reduction.has_value()) return absl::InternalError("no reduction");
    all.Merge(*r->reduction);
    if (f.spec.keep_states) {
      for (int64_t k = 0; k < r->count; ++k) {
        codes->push_back(static_cast<uint8_t>(r->retcodes[k]));
        for (int c = 0; c < 15; ++c) states->push_back(r->states_f64[k * 15 + c]);
      }
    } else if (r->states_f64.size() != 0 || r->retcodes.size() != 0 || r->count != in.count) {
      return absl::InternalError("per-trajectory arrays came back without keep_states");
    }
  }
  return all;
}

TEST(CpuReduction, EqualsTheFullOutputsStatisticsForAnyBatchingAndThreads) {
  const int64_t n = 20000;
  Fixture f = Make();
  // The reference: one solve of everything, states kept, reduced in the test.
  std::vector<double> states;
  std::vector<uint8_t> codes;
  std::unique_ptr<Backend> one = NewCpuBackend(1);
  ASSERT_TRUE(SolveReduced(f, *one, n, n, &states, &codes).ok());
  const testing::ReferenceStats ref = testing::ReferenceReduction(
      f.spec, n, [&](int64_t k) { return codes[k]; },
      [&](int64_t k, int64_t c) { return states[k * 15 + c]; });
  int64_t failed = 0;
  for (uint8_t c : codes) failed += c != 0;
  ASSERT_GT(failed, 1000) << "the test needs failed trajectories";
  ASSERT_GT(ref.nonfinite[1 * 3 + 1], 100) << "and NaN outputs";
  for (int threads : {1, 2, 3}) {
    std::unique_ptr<Backend> backend = NewCpuBackend(threads);
    for (int64_t batch : {int64_t{1}, int64_t{7}, int64_t{10000}}) {
      // Batches of 1 solve fewer trajectories (the per-batch overhead dominates).
      const int64_t count = batch == 1 ? 3000 : n;
      const testing::ReferenceStats r =
          count == n ? ref
                     : testing::ReferenceReduction(
                           f.spec, count, [&](int64_t k) { return codes[k]; },
                           [&](int64_t k, int64_t c) { return states[k * 15 + c]; });
      for (bool keep : {true, false}) {
        f.spec.keep_states = keep;
        std::vector<double> s2;
        std::vector<uint8_t> c2;
        absl::StatusOr<Reduction> got = SolveReduced(f, *backend, count, batch, &s2, &c2);
        ASSERT_TRUE(got.ok()) << got.status();
        testing::ExpectReductionMatches(
            *got, r, 1e-12,
            absl::StrCat(threads, " threads, batches of ", batch, keep ? ", states kept" : ""));
      }
      f.spec.keep_states = true;
    }
  }
}

TEST(CpuReduction, Float32StatesReducedInFloat64) {
  Fixture f = Make();
  f.options.precision = Precision::kFloat32;
  f.options.abstol = f.options.reltol = 1e-5;
  std::unique_ptr<Backend> backend = NewCpuBackend(2);
  auto prepared = backend->Prepare(*f.model, f.options);
  ASSERT_TRUE(prepared.ok());
  BatchInputs in;
  in.count = 5000;
  in.p_sampler = &*f.sampler;
  in.reduction = &f.spec;
  absl::StatusOr<BatchResult> r = backend->Solve(**prepared, f.options, in);
  ASSERT_TRUE(r.ok()) << r.status();
  const testing::ReferenceStats ref = testing::ReferenceReduction(
      f.spec, 5000, [&](int64_t k) { return static_cast<int>(r->retcodes[k]); },
      [&](int64_t k, int64_t c) { return static_cast<double>(r->states_f32[k * 15 + c]); });
  testing::ExpectReductionMatches(*r->reduction, ref, 1e-12, "float32");
}

}  // namespace
}  // namespace ensolve
