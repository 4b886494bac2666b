// libFuzzer target for request validation: bytes -> v1::SolveRequest (ParseFromArray) ->
// BuildJobSpec (server/request.h), which checks every field, parses the model through the
// model cache and decodes the input tensors; nothing runs. Bytes that are no SolveRequest
// are what gRPC would refuse before the service sees them.
#include <cstddef>
#include <cstdint>

#include "ensolve/v1/solver.pb.h"
#include "server/config.h"
#include "server/model_cache.h"
#include "server/request.h"

namespace {

// The server's defaults, with the model limits and sizes cut down so that each input is
// cheap (a fuzzer finds a 200,000-node model quickly and then spends all its time there).
ensolve::ModelLimits FuzzModelLimits() {
  ensolve::ModelLimits limits;
  limits.max_source_bytes = 8192;
  limits.max_states = 16;
  limits.max_params = 32;
  limits.max_nodes = 8000;
  limits.max_depth = 48;
  return limits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  ensolve::v1::SolveRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  static ensolve::server::ServerConfig* const config = [] {
    auto* c = new ensolve::server::ServerConfig;
    c->max_save_points = 4096;
    c->max_trajectories = 1 << 20;
    return c;
  }();
  // A small cache, so that it also evicts.
  static ensolve::server::ModelCache* const models =
      new ensolve::server::ModelCache(4, int64_t{64} << 20, FuzzModelLimits(), nullptr);
  bool cached = false;
  (void)ensolve::server::BuildJobSpec(request, *config, *models, "fuzz", &cached);
  return 0;
}
