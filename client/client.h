// ensolve::Client: the C++ client of ensolved. It hides the Solve stream's chunking: Solve()
// returns the whole ensemble reassembled in trajectory order; SolveStream() hands over each
// message as it arrives, for progress reporting or for results larger than memory.
//
//   auto client = ensolve::Client::Connect("127.0.0.1:50051");
//   ensolve::v1::SolveRequest req;
//   req.set_model_source(text);
//   req.set_trajectories(10000);
//   req.mutable_options()->set_t1(100);
//   absl::StatusOr<ensolve::SolveResult> r = client->Solve(req);
//
// Errors are absl::Status values with the server's gRPC code and message (the codes have
// the same numbers). Thread-safety: a Client may be shared by threads; each call is
// independent.
#ifndef ENSOLVE_CLIENT_CLIENT_H_
#define ENSOLVE_CLIENT_CLIENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/credentials.h"
#include "client/statistics.h"
#include "ensolve/v1/solver.grpc.pb.h"

namespace grpc {
class Channel;
}

namespace ensolve {

// A reassembled Solve result.
struct SolveResult {
  v1::SolveAccepted accepted;
  v1::SolveSummary summary;
  int64_t trajectories = 0;
  int num_save = 0;
  int num_states = 0;
  v1::DType dtype = v1::DTYPE_FLOAT64;  // what the server computed in
  // [trajectory][save point][state], row-major; float32 results are widened exactly.
  std::vector<double> states;
  std::vector<uint8_t> retcodes;  // v1::RetCode values
  std::vector<int32_t> accepted_steps;
  std::vector<int32_t> rejected_steps;
  std::vector<int32_t> rhs_evals;
  std::vector<double> t_final;  // the time each trajectory reached
  // The events each trajectory fired, for a model with events; empty otherwise.
  std::vector<int32_t> events_fired;
  // With SolveRequest.return_inputs: the parameters and initial states each trajectory
  // used, row-major [trajectory][dimension]; empty otherwise.
  std::vector<double> params, u0_used;
  // When trajectories have save times of their own (accepted.save_times is then empty):
  // [trajectory][save point]; empty otherwise.
  std::vector<double> save_times;
  // With SolveRequest.sensitivities (accepted.sensitivities() names the parameters):
  // d state / d parameter, [trajectory][save point][state][parameter] row-major; empty
  // otherwise.
  int num_sensitivities = 0;
  std::vector<double> sensitivities;
  // With SolveRequest.reductions: the final statistics. The per-trajectory arrays above are
  // then empty unless reductions.keep_states asked for them too.
  std::optional<EnsembleStatistics> statistics;

  double state(int64_t traj, int save, int s) const {
    return states[(static_cast<size_t>(traj) * num_save + save) * num_states + s];
  }
  // d state(traj, save, s) / d (parameter accepted.sensitivities(j)).
  double sensitivity(int64_t traj, int save, int s, int j) const {
    return sensitivities[((static_cast<size_t>(traj) * num_save + save) * num_states + s) *
                             num_sensitivities +
                         j];
  }
  // The time of trajectory traj's save point `save`, shared or its own.
  double save_time(int64_t traj, int save) const {
    return save_times.empty() ? accepted.save_times(save)
                              : save_times[static_cast<size_t>(traj) * num_save + save];
  }
};

// Builds a SolveResult from the messages of one Solve stream, checking that chunks fit the
// accepted shape and that every trajectory arrives exactly once.
//
// For a large result it asks the kernel, on helper threads, to back the result's arrays
// with memory as soon as the stream is accepted (Linux: MADV_POPULATE_WRITE), so that the
// page faults of fresh memory, slow in virtual machines, overlap with the server's first
// batch instead of holding up each chunk. ENSOLVE_CLIENT_PREFAULT=0 turns that off.
class ResultAssembler {
 public:
  ResultAssembler() = default;
  ~ResultAssembler();
  ResultAssembler(const ResultAssembler&) = delete;
  ResultAssembler& operator=(const ResultAssembler&) = delete;

  // Feed every message in order. INVALID_ARGUMENT (or DATA_LOSS for a duplicate or missing
  // trajectory) when the stream breaks the API's contract.
  absl::Status Add(const v1::SolveResponse& response);
  // After the summary: the result. FAILED_PRECONDITION if the stream was incomplete.
  absl::StatusOr<SolveResult> Take();
  int64_t received() const { return received_; }

 private:
  absl::Status AddChunk(const v1::ResultChunk& chunk);
  // Whether ResultChunks come (not with reductions that replace them).
  bool states_streamed() const {
    return !result_.accepted.has_reductions() || result_.accepted.reductions().states_streamed();
  }
  // Sizes the result's arrays for at least `trajectories` rows.
  void Grow(int64_t trajectories);
  void StartPrefault();
  void JoinPrefault();
  bool accepted_ = false;
  bool summarized_ = false;
  int64_t received_ = 0;
  std::map<int64_t, int64_t> arrived_;  // trajectory ranges received, [first, end), merged
  SolveResult result_;
  std::vector<std::thread> prefault_;
};

struct CallOptions {
  // The call's deadline, from the moment it starts (DEADLINE_EXCEEDED when it passes).
  absl::Duration timeout = absl::InfiniteDuration();
};

class Client {
 public:
  struct Options {
    // Largest message accepted from the server (chunks are ~2 MiB by default).
    int max_receive_message_bytes = 64 << 20;
    // Largest request sent (inputs tensors travel in it).
    int max_send_message_bytes = 256 << 20;
    // Sent as `authorization: Bearer <token>` on every call when not empty (servers run
    // with --tokens_file need it).
    std::string bearer_token;
    // TLS to the server (servers run with --tls_cert); plaintext when not enabled.
    TlsOptions tls;
  };
  // Connects lazily to a gRPC target ("host:port", "dns:///ensolved.ns.svc:50051", ...),
  // with round-robin load balancing over the target's addresses.
  static std::unique_ptr<Client> Connect(const std::string& target, const Options& options);
  static std::unique_ptr<Client> Connect(const std::string& target) {
    return Connect(target, Options());
  }
  explicit Client(std::shared_ptr<grpc::Channel> channel, std::string bearer_token = "");

  // Solves and returns the whole result.
  absl::StatusOr<SolveResult> Solve(const v1::SolveRequest& request,
                                    const CallOptions& options = {});

  // Calls `on_response` for each message, in order: SolveAccepted, ResultChunks (any
  // trajectory order), SolveSummary. If it returns an error the call is cancelled (the
  // server drops the job's remaining batches) and SolveStream returns that error.
  using ResponseHandler = std::function<absl::Status(const v1::SolveResponse&)>;
  absl::Status SolveStream(const v1::SolveRequest& request, const ResponseHandler& on_response,
                           const CallOptions& options = {});

  // Detached jobs (docs/api.md, "Detached jobs"): the job runs on the server whether or not
  // this client stays connected. SubmitJob returns once it is admitted (the same errors as
  // Solve); accepted.job_id() names it.
  absl::StatusOr<v1::SolveAccepted> SubmitJob(const v1::SolveRequest& request,
                                              const CallOptions& options = {});
  // Calls `on_response` for each of the job's messages from `from_offset` on, as SolveStream
  // does, until the summary (OK) or the job's error. It watches again, from the number of
  // messages received, where the server pauses the job for room (which acknowledges what
  // came) and where the connection drops (UNAVAILABLE: up to kWatchRetries times in a row,
  // 0.1 s apart and doubling), so no message is lost or repeated. options.timeout applies
  // to each watch call. *received, if not null, is the offset reached.
  static constexpr int kWatchRetries = 5;
  absl::Status WatchJob(const std::string& job_id, const ResponseHandler& on_response,
                        int64_t from_offset = 0, const CallOptions& options = {},
                        int64_t* received = nullptr);
  // The whole result of a job watched from its start.
  absl::StatusOr<SolveResult> WatchJobResult(const std::string& job_id,
                                             const CallOptions& options = {});
  absl::StatusOr<v1::JobInfo> CancelJob(const std::string& job_id, const CallOptions& options = {});
  absl::StatusOr<std::vector<v1::JobInfo>> ListJobs(const CallOptions& options = {});

  absl::StatusOr<v1::CompileModelResponse> CompileModel(const std::string& model_source,
                                                        const CallOptions& options = {});
  absl::StatusOr<v1::ServerInfo> GetServerInfo(const CallOptions& options = {});

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EnsembleSolver::Stub> stub_;
  const std::string bearer_token_;
};

}  // namespace ensolve

#endif  // ENSOLVE_CLIENT_CLIENT_H_
