// The seed example from C++: Lorenz, t in [0, 100], 10,000 trajectories with
// p = rand(3) .* (10, 28, 8/3) drawn on the server (seed 1), saved every 1.0; the same
// ensemble as examples/lorenz.py and examples/lorenz_cli.sh.
//
//   build/examples/ensolve_example_lorenz [SERVER] [OUT.npy]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "client/client.h"
#include "client/npy.h"

int main(int argc, char** argv) {
  const char* env = std::getenv("ENSOLVE_SERVER");
  const std::string server = argc > 1 ? argv[1] : env != nullptr ? env : "localhost:50051";

  ensolve::v1::SolveRequest req;
  std::ifstream model(ENSOLVE_SOURCE_DIR "/server/models/lorenz.ode");
  req.set_model_source(std::string(std::istreambuf_iterator<char>(model), {}));
  req.set_trajectories(10000);
  ensolve::v1::SolveOptions* o = req.mutable_options();
  o->set_t1(100);
  o->mutable_saveat()->mutable_range()->set_stop(100);
  o->mutable_saveat()->mutable_range()->set_step(1);
  ensolve::v1::Sampler* s = req.mutable_params()->mutable_sampler();
  s->set_seed(1);
  for (double hi : {10.0, 28.0, 8.0 / 3}) {
    s->mutable_uniform()->add_lo(0);
    s->mutable_uniform()->add_hi(hi);
  }

  auto client = ensolve::Client::Connect(server);
  absl::StatusOr<ensolve::SolveResult> r = client->Solve(req);
  if (!r.ok()) {
    std::fprintf(stderr, "solve failed: %s\n", r.status().ToString().c_str());
    return 1;
  }
  int64_t ok = 0;
  double z = 0;
  for (int64_t i = 0; i < r->trajectories; ++i) {
    if (r->retcodes[i] != ensolve::v1::RET_CODE_SUCCESS) continue;
    ++ok;
    z += r->state(i, r->num_save - 1, 2);
  }
  std::printf("%lld trajectories x %d save points x %d states; %lld succeeded; mean z(100) = %g\n",
              static_cast<long long>(r->trajectories), r->num_save, r->num_states,
              static_cast<long long>(ok), ok > 0 ? z / ok : 0.0);
  if (argc > 2) {
    absl::Status w =
        ensolve::WriteNpy(argv[2], "<f8", {r->trajectories, r->num_save, r->num_states},
                          r->states.data(), r->states.size() * sizeof(double));
    if (!w.ok()) {
      std::fprintf(stderr, "%s\n", w.ToString().c_str());
      return 1;
    }
  }
  return ok == r->trajectories ? 0 : 3;
}
