// libFuzzer target for the model path: bytes -> model text -> parse -> IR (CSE) ->
// Jacobian, time derivative, noise -> tapes -> a short CPU solve of a few trajectories.
//
// Input: byte 0 picks the algorithm (byte % number of methods; one that does not fit the
// model falls back to the first that does), byte 1 the precision (bit 0) and fixed or
// adaptive steps (bit 1); the rest is the model text. Work per input is bounded: small
// limits on the text, states, nodes and events, 4 trajectories, at most 64 steps each.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "engine/algorithms/table.h"
#include "engine/backend.h"
#include "engine/model/model.h"
#include "engine/solve_options.h"

namespace {

ensolve::ModelLimits FuzzLimits() {
  ensolve::ModelLimits limits;
  limits.max_source_bytes = 4096;
  limits.max_states = 8;
  limits.max_params = 16;
  limits.max_outputs = 8;
  limits.max_wieners = 8;
  limits.max_events = 4;
  limits.max_event_times = 16;
  limits.max_nodes = 4000;
  limits.max_depth = 32;
  return limits;
}

// The method byte asks for, or the first of the table that fits the model.
ensolve::Algorithm PickAlgorithm(const ensolve::Model& model, uint8_t byte) {
  const ensolve::AlgorithmInfo* table = ensolve::AlgorithmTable();
  const int asked = byte % ensolve::kNumAlgorithms;
  for (int k = 0; k < ensolve::kNumAlgorithms; ++k) {
    const ensolve::Algorithm a = table[(asked + k) % ensolve::kNumAlgorithms].algorithm;
    if (ensolve::CheckAlgorithmFitsModel(model, a).ok() &&
        ensolve::CheckStiffModelSize(model, a, ensolve::kMaxStiffStatesCpu, "cpu").ok()) {
      return a;
    }
  }
  return table[asked].algorithm;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const ensolve::ModelLimits limits = FuzzLimits();
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (static_cast<int64_t>(text.size()) > limits.max_source_bytes) return 0;
  auto model = ensolve::Model::Parse(text, limits);
  if (!model.ok()) return 0;

  ensolve::SolveOptions options;
  options.algorithm = PickAlgorithm(**model, data[0]);
  options.precision = (data[1] & 1) ? ensolve::Precision::kFloat32 : ensolve::Precision::kFloat64;
  options.adaptive = (data[1] & 2) == 0 && ensolve::IsAdaptiveCapable(options.algorithm);
  options.t1 = 1;
  options.dt = 1.0 / 16;
  options.saveat = {0.25, 0.5, 1};
  options.max_steps = 64;
  if (!ensolve::ValidateOptions(options).ok()) return 0;

  static const std::unique_ptr<ensolve::Backend> backend = ensolve::NewCpuBackend(1);
  auto prepared = backend->Prepare(**model, options);
  if (!prepared.ok()) return 0;
  ensolve::BatchInputs inputs;
  inputs.count = 4;
  inputs.seed = 7;
  (void)backend->Solve(**prepared, options, inputs);
  return 0;
}
