// ensolve-service-bench: what the service costs over the engine, and how fast it streams.
//
//  1. Throughput: the same Lorenz ensemble (parameters drawn uniformly from
//     (0..10, 0..28, 0..8/3), u0 = (1, 0, 0), Tsit5, final state only) solved by the CPU
//     backend in-process in one call, and through ensolved over loopback gRPC (batches of
//     10,000; parameters sent as a tensor, or drawn by the server's sampler). The ratio is
//     service time / engine time.
//  2. Streaming: a saveat-heavy Solve (many save points per step) read by a client that only
//     counts bytes, against a plain gRPC stream of 2 MiB raw-bytes messages from a trivial
//     server in the same process, on the same loopback.
//
// Each figure is the best of --reps runs (default 3). Prints tables; asserts nothing.
//   ensolve-service-bench [--reps=N] [--trajectories=N]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "client/tensor.h"
#include "engine/backend.h"
#include "engine/model/model.h"
#include "engine/sampler.h"
#include "engine/testing/lorenz.h"
#include "ensolve/v1/solver.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/log.h"
#include "server/server.h"
#include "server/status_adapter.h"

namespace ensolve {
namespace {

using ensolve::testing::kLorenz;

// 16 independent decays: cheap to step, so a dense saveat makes it output-bound.
constexpr char kDecay16[] = R"(state a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8
state i = 1, j = 2, k = 3, l = 4, m = 5, n = 6, o = 7, p = 8
param r = 0.5
a' = -r*a
b' = -r*b
c' = -r*c
d' = -r*d
e' = -r*e
f' = -r*f
g' = -r*g
h' = -r*h
i' = -r*i
j' = -r*j
k' = -r*k
l' = -r*l
m' = -r*m
n' = -r*n
o' = -r*o
p' = -r*p
)";

double Best(int reps, const std::function<void()>& f) {
  double best = 1e300;
  for (int i = 0; i < reps; ++i) {
    const absl::Time t0 = absl::Now();
    f();
    best = std::min(best, absl::ToDoubleSeconds(absl::Now() - t0));
  }
  return best;
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

std::vector<double> SampledParams(int64_t n) {
  SamplerSpec spec{SamplerKind::kUniform, 1, {0, 0, 0}, {10, 28, 8.0 / 3}, {}};
  absl::StatusOr<Sampler> s = Sampler::Create(spec, 3);
  std::vector<double> p(static_cast<size_t>(n * 3));
  s->Fill(0, n, p.data());
  return p;
}

// The engine alone: one Solve of the whole ensemble (Prepare done once beforehand).
double EngineSeconds(const SolveOptions& o, const std::vector<double>& p, int64_t n, int reps,
                     const char* source = kLorenz) {
  auto model = Model::Parse(source);
  Check(model.status(), "parse");
  std::unique_ptr<Backend> backend = NewCpuBackend(0);
  auto prepared = backend->Prepare(**model, o);
  Check(prepared.status(), "prepare");
  BatchInputs in;
  in.count = n;
  in.p = p.empty() ? nullptr : p.data();
  in.p_rows = p.empty() ? 1 : n;
  return Best(reps, [&] { Check(backend->Solve(**prepared, o, in).status(), "engine solve"); });
}

v1::SolveRequest LorenzRequest(int64_t n, double t1, const std::vector<double>* params) {
  v1::SolveRequest req;
  req.set_model_source(kLorenz);
  req.set_trajectories(n);
  req.mutable_options()->set_t1(t1);
  if (params != nullptr) {
    *req.mutable_params()->mutable_values() = Float64Tensor(*params, {n, 3});
  } else {
    v1::UniformBox* u = req.mutable_params()->mutable_sampler()->mutable_uniform();
    req.mutable_params()->mutable_sampler()->set_seed(1);
    for (double hi : {10.0, 28.0, 8.0 / 3}) {
      u->add_lo(0);
      u->add_hi(hi);
    }
  }
  return req;
}

// A trivial server: Solve streams request.trajectories() messages, each a 2 MiB states
// tensor of fixed bytes. The cost of gRPC alone, with the same message type.
class RawStreamService final : public v1::EnsembleSolver::CallbackService {
 public:
  RawStreamService() {
    v1::Tensor* t = message_.mutable_chunk()->mutable_states();
    t->set_dtype(v1::DTYPE_FLOAT64);
    t->add_shape(int64_t{2} << 20 >> 3);
    t->mutable_data()->assign(size_t{2} << 20, '\x2a');
  }
  grpc::ServerWriteReactor<v1::SolveResponse>* Solve(grpc::CallbackServerContext*,
                                                     const v1::SolveRequest* req) override {
    class Reactor : public grpc::ServerWriteReactor<v1::SolveResponse> {
     public:
      Reactor(const v1::SolveResponse* m, int64_t n) : m_(m), left_(n) { Next(); }
      void OnWriteDone(bool ok) override {
        if (!ok) return Finish(grpc::Status::CANCELLED);
        Next();
      }
      void OnDone() override { delete this; }

     private:
      void Next() {
        if (left_-- > 0) return StartWrite(m_);
        Finish(grpc::Status::OK);
      }
      const v1::SolveResponse* m_;
      int64_t left_;
    };
    return new Reactor(&message_, req->trajectories());
  }

 private:
  v1::SolveResponse message_;
};

// Reads a Solve stream, counting states bytes only (no reassembly).
int64_t CountBytes(v1::EnsembleSolver::Stub& stub, const v1::SolveRequest& req) {
  grpc::ClientContext ctx;
  auto reader = stub.Solve(&ctx, req);
  v1::SolveResponse r;
  int64_t bytes = 0;
  while (reader->Read(&r)) {
    if (r.has_chunk()) bytes += static_cast<int64_t>(r.chunk().states().data().size());
  }
  Check(server::FromGrpcStatus(reader->Finish()), "stream");
  return bytes;
}

grpc::ChannelArguments BigMessages() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return args;
}

void Throughput(server::EnsolveServer& srv, Client& client, int64_t n, int reps) {
  std::printf("\n1. Throughput: %lld Lorenz trajectories, Tsit5, final state only, %u threads\n",
              static_cast<long long>(n), std::thread::hardware_concurrency());
  std::printf("%-12s %12s %12s %12s %8s %8s %14s\n", "t span", "engine s", "service s", "sampler s",
              "ratio", "ratio*", "service traj/s");
  const std::vector<double> p = SampledParams(n);
  for (double t1 : {1.0, 10.0, 100.0}) {
    SolveOptions o;
    o.t1 = t1;
    const double engine = EngineSeconds(o, p, n, reps);
    const v1::SolveRequest with_tensor = LorenzRequest(n, t1, &p);
    const v1::SolveRequest with_sampler = LorenzRequest(n, t1, nullptr);
    Check(client.Solve(with_tensor).status(), "warm-up");
    const double service =
        Best(reps, [&] { Check(client.Solve(with_tensor).status(), "service solve"); });
    const double sampled =
        Best(reps, [&] { Check(client.Solve(with_sampler).status(), "service solve"); });
    std::printf("%-12s %12.4f %12.4f %12.4f %8.3f %8.3f %14.0f\n",
                absl::StrCat("[0, ", t1, "]").c_str(), engine, service, sampled, service / engine,
                sampled / engine, n / service);
  }
  std::printf(
      "ratio = service (parameters sent as a [N, 3] float64 tensor) / engine;"
      " ratio* = with the server's sampler\n");
  (void)srv;
}

void Streaming(server::EnsolveServer& srv, int reps) {
  // A plain gRPC stream on its own server, same process, same loopback.
  RawStreamService raw;
  grpc::ServerBuilder b;
  int raw_port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &raw_port);
  b.RegisterService(&raw);
  std::unique_ptr<grpc::Server> raw_server = b.BuildAndStart();
  auto raw_stub = v1::EnsembleSolver::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", raw_port), grpc::InsecureChannelCredentials(), BigMessages()));
  auto stub = v1::EnsembleSolver::NewStub(
      grpc::CreateCustomChannel(srv.target(), grpc::InsecureChannelCredentials(), BigMessages()));

  std::printf("\n2. Streaming: states bytes per second as read by a client that counts them\n");
  std::printf("%-52s %10s %10s %10s %8s\n", "stream", "MB", "s", "MB/s", "vs raw");
  struct Case {
    const char* name;
    const char* model;
    int64_t n;
    double t1, step;
    int64_t batch;
  };
  const Case cases[] = {
      {"Solve: Lorenz 10k x 1001 saves x 3 (server's batches)", kLorenz, 10000, 10, 0.01, 0},
      {"Solve: Lorenz 10k x 1001 saves x 3, batch_size 10k", kLorenz, 10000, 10, 0.01, 10000},
      {"Solve: 16 decays 10k x 1001 saves x 16", kDecay16, 10000, 1, 0.001, 0},
  };
  double raw_rate = 0;
  {
    const int64_t messages = 128;  // 256 MiB
    v1::SolveRequest req;
    req.set_trajectories(messages);
    int64_t bytes = 0;
    const double s = Best(reps, [&] { bytes = CountBytes(*raw_stub, req); });
    raw_rate = bytes / s / 1e6;
    std::printf("%-52s %10.1f %10.4f %10.1f %8.2f\n", "plain gRPC stream, 2 MiB raw-bytes messages",
                bytes / 1e6, s, raw_rate, 1.0);
  }
  for (const Case& c : cases) {
    const bool lorenz = c.model == kLorenz;
    v1::SolveRequest req = LorenzRequest(c.n, c.t1, nullptr);
    req.set_model_source(c.model);
    if (!lorenz) req.clear_params();
    req.set_batch_size(c.batch);
    auto* r = req.mutable_options()->mutable_saveat()->mutable_range();
    r->set_start(0);
    r->set_step(c.step);
    r->set_stop(c.t1);
    int64_t bytes = 0;
    CountBytes(*stub, req);  // warm-up: model parse and prepare
    const double s = Best(reps, [&] { bytes = CountBytes(*stub, req); });
    std::printf("%-52s %10.1f %10.4f %10.1f %8.2f\n", c.name, bytes / 1e6, s, bytes / s / 1e6,
                bytes / s / 1e6 / raw_rate);
    // The engine alone on the same request: the floor set by computing the states.
    SolveOptions o;
    o.t1 = c.t1;
    for (int64_t i = 0; i <= static_cast<int64_t>(c.t1 / c.step + 1e-9); ++i) {
      o.saveat.push_back(std::min(c.t1, static_cast<double>(i) * c.step));
    }
    const double e =
        EngineSeconds(o, lorenz ? SampledParams(c.n) : std::vector<double>{}, c.n, reps, c.model);
    std::printf("%-52s %10.1f %10.4f %10.1f %8.2f\n", "  engine alone, same request", bytes / 1e6,
                e, bytes / e / 1e6, bytes / e / 1e6 / raw_rate);
  }
  raw_server->Shutdown();
}

}  // namespace
}  // namespace ensolve

int main(int argc, char** argv) {
  int reps = 3;
  int64_t n = 100000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--reps=", 0) == 0) absl::SimpleAtoi(a.substr(7), &reps);
    if (a.rfind("--trajectories=", 0) == 0) absl::SimpleAtoi(a.substr(15), &n);
  }
  ensolve::server::SetMinLogLevel(ensolve::server::LogLevel::kWarning);
  ensolve::server::ServerConfig config;
  config.address = "127.0.0.1:0";
  config.metrics_port = -1;
  config.devices = "cpu";
  auto srv = ensolve::server::EnsolveServer::Start(config);
  ensolve::Check(srv.status(), "start ensolved");
  auto client = ensolve::Client::Connect((*srv)->target());
  std::printf("ensolve service benchmark: ensolved in-process on loopback, CPU backend\n");
  ensolve::Throughput(**srv, *client, n, reps);
  ensolve::Streaming(**srv, reps);
  return 0;
}
