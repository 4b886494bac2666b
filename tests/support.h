// Shared helpers of the integration tests: a real ensolved (in-process on 127.0.0.1:0, or
// as a subprocess), the engine in-process for reference results, /metrics over HTTP, and
// the gRPC health service.
#ifndef ENSOLVE_TESTS_SUPPORT_H_
#define ENSOLVE_TESTS_SUPPORT_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "client/client.h"
#include "engine/batch.h"
#include "engine/solve_options.h"
#include "engine/testing/lorenz.h"
#include "ensolve/v1/solver.grpc.pb.h"
#include "ensolve/v1/solver.pb.h"
#include "grpcpp/client_context.h"
#include "server/config.h"
#include "server/server.h"

namespace ensolve::testing {

// Loopback, any free ports, the CPU with 2 threads.
server::ServerConfig TestConfig();

// An in-process ensolved and a client connected to it.
struct TestServer {
  std::unique_ptr<server::EnsolveServer> server;
  std::unique_ptr<Client> client;
};
TestServer StartServer(const server::ServerConfig& config = TestConfig());

// A Lorenz request: `n` trajectories on [0, t1], parameters sampled uniformly with `seed`
// from (0..10, 0..28, 0..8/3).
v1::SolveRequest LorenzRequest(int64_t n, double t1, uint64_t seed = 1);

// A valid model of about `bytes` bytes of text (200 states, 50 parameters, sums of
// sin terms) that takes seconds to compile; `seed` makes distinct texts (no cache hits).
std::string SlowModel(int seed, size_t bytes);
// "state x / param p0, ..., p<n-1> / x' = -p0*x": a model with `params` parameters.
std::string WideModel(int params);
// The 400,000-trajectory request of WideModel(1024), sampled inputs, one batch: a 22 KB
// request whose batch would draw 3.3 GB of parameters.
v1::SolveRequest WideRequest();

// A raw stub (64 MiB messages), so that tests choose the call's metadata.
std::unique_ptr<v1::EnsembleSolver::Stub> RawStub(const std::string& target);
// Adds `authorization: Bearer <token>` (nothing for an empty token).
void Authorize(grpc::ClientContext* ctx, const std::string& token);
// Runs a Solve to its end as the tenant of `token`; the final status. `*accepted` (may be
// null) is notified at the SolveAccepted message.
grpc::Status SolveAs(const std::string& target, const std::string& token,
                     const v1::SolveRequest& req, absl::Notification* accepted = nullptr);

// Solves in-process with a fresh CPU backend, the reference for "through the service".
// `u0`/`p` are row-major with u0_rows/p_rows rows.
absl::StatusOr<BatchResult> SolveInProcess(const std::string& model_source,
                                           const SolveOptions& options, int64_t count,
                                           const std::vector<double>& u0, int64_t u0_rows,
                                           const std::vector<double>& p, int64_t p_rows);

// HTTP/1.0 GET of http://127.0.0.1:port/path over a plain socket; the body on 200.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);
// The sum of the samples of metric `name` whose labels include all of `labels`
// (Prometheus text format); 0 when there are none.
double MetricValue(const std::string& text, const std::string& name,
                   const std::map<std::string, std::string>& labels = {});

// grpc.health.v1 Check for `service` ("" = the whole server): "SERVING", "NOT_SERVING",
// ..., or the RPC's error.
absl::StatusOr<std::string> HealthCheck(const std::string& target, const std::string& service);

// ensolved as a child process (for signals).
class Subprocess {
 public:
  // Starts `argv` (argv[0] is the binary path) with stderr to `log_path`.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(const std::vector<std::string>& argv,
                                                           const std::string& log_path);
  ~Subprocess();  // SIGKILLs the child if it is still running
  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits up to `timeout` for the exit; the exit status, or DEADLINE_EXCEEDED.
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// Waits up to `timeout` for `path` to hold a port number.
absl::StatusOr<int> ReadPortFile(const std::string& path, absl::Duration timeout);

// A fresh temporary directory for this test.
std::string TempDir();

// The whole content of a file ("" when it cannot be read).
std::string ReadFile(const std::string& path);

// A shell command's exit code (-1 when it did not exit normally) and output.
struct CommandResult {
  int code = -1;
  std::string out, err;
};
// Runs `command` through the shell with no standard input, its stdout and stderr captured
// in files under `dir`.
CommandResult RunCommand(const std::string& command, const std::string& dir);

}  // namespace ensolve::testing

#endif  // ENSOLVE_TESTS_SUPPORT_H_
