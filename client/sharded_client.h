// ShardedClient: one ensemble over every ensolved server behind a target. This is how ensolve
// outgrows one machine: a Kubernetes headless Service (or a plain list) names the servers,
// the client splits the trajectories into ranges, runs the ranges on all servers at once and
// puts the results back in order.
//
//   auto client = ensolve::ShardedClient::Connect("dns:///ensolved.ns.svc:50051");
//   absl::StatusOr<ensolve::SolveResult> r = (*client)->Solve(request);
//
// Targets: "host:port" or "dns:///host:port" (every address the name resolves to, resolved
// again on each call so new pods join), "ipv4:a:p,b:q" or a comma list "a:p,b:q" (each
// element resolved the same way).
//
// Each shard is a Solve call over trajectories [first, first + count) of the request, with
// tensor rows sliced and SolveRequest.first_trajectory set so samplers draw the values of the
// whole ensemble. Every server runs a few shards at a time from one shared queue, so a faster
// server takes more. A shard whose server fails (UNAVAILABLE, a broken stream, a full queue)
// is dropped whole, partial results included, and queued again for the other servers; that
// server gets no more shards in this call. A shard's results are copied into the answer only
// once its stream completed, so every trajectory comes back exactly once. Errors that are the
// request's fault (INVALID_ARGUMENT, NOT_FOUND, a deadline) end the call at once. Send the
// model as model_source: a model_id is known only to the server that compiled it.
//
// Thread-safety: a ShardedClient may be shared by threads; each call is independent.
#ifndef ENSOLVE_CLIENT_SHARDED_CLIENT_H_
#define ENSOLVE_CLIENT_SHARDED_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/client.h"
#include "ensolve/v1/solver.grpc.pb.h"

namespace ensolve {

// The addresses ("ip:port", "[ip6]:port") of a target as described above, de-duplicated
// and sorted. INVALID_ARGUMENT for a malformed target, UNAVAILABLE when a name does not
// resolve.
absl::StatusOr<std::vector<std::string>> ResolveTarget(const std::string& target);

// The number of trajectories `request` asks for: trajectories, else the rows of per-
// trajectory u0/params tensors, else a grid sampler's points past first_trajectory; 0 when
// none says.
int64_t RequestedTrajectories(const v1::SolveRequest& request);

// The request for trajectories [first, first + count) of `request` (which asks for
// `total`): tensor rows sliced, shared rows kept, first_trajectory advanced by `first`.
v1::SolveRequest ShardRequest(const v1::SolveRequest& request, int64_t total, int64_t first,
                              int64_t count);

// What one sharded call did.
struct ShardStats {
  int servers = 0;  // addresses the target resolved to
  int shards = 0;
  int retries = 0;  // shard attempts that failed and were queued again
  std::map<std::string, int64_t> trajectories_by_server;  // results kept, per address
  std::vector<std::string> failed_servers;                // addresses dropped during the call
};

class ShardedClient {
 public:
  struct Options {
    Client::Options client;
    // Shards per server (more evens out servers of different speed; each costs a call).
    int shards_per_server = 4;
    // Shards are at least this many trajectories (a server's default batch is 10,000).
    int64_t min_shard_trajectories = 10000;
    // Shard calls each server runs at once (2 keeps its queue fed between shards).
    int calls_per_server = 2;
  };
  static absl::StatusOr<std::unique_ptr<ShardedClient>> Connect(const std::string& target,
                                                                const Options& options);
  static absl::StatusOr<std::unique_ptr<ShardedClient>> Connect(const std::string& target) {
    return Connect(target, Options());
  }

  // Solves `request` across the target's servers and returns the whole result, as
  // Client::Solve does. SolveAccepted and SolveSummary merge the shards' (job_id lists the
  // shards' jobs; devices are "address/device"). `stats` (may be null) says how it went.
  absl::StatusOr<SolveResult> Solve(const v1::SolveRequest& request,
                                    const CallOptions& options = {}, ShardStats* stats = nullptr);

 private:
  ShardedClient(std::string target, Options options)
      : target_(std::move(target)), options_(std::move(options)) {}
  // The stub of one address: its channel is created on first use and kept.
  v1::EnsembleSolver::Stub* StubFor(const std::string& address);

  const std::string target_;
  const Options options_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<v1::EnsembleSolver::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_SHARDED_CLIENT_H_
