#include "client/sharded_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace ensolve {
namespace {

// "host:port" or "[v6]:port" into host and port.
absl::Status SplitHostPort(const std::string& hp, std::string* host, std::string* port) {
  size_t colon;
  if (absl::StartsWith(hp, "[")) {
    const size_t close = hp.find(']');
    if (close == std::string::npos || close + 1 >= hp.size() || hp[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("target ", hp, ": expected [ipv6]:port"));
    }
    *host = hp.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = hp.rfind(':');
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("target ", hp, ": expected host:port"));
    }
    *host = hp.substr(0, colon);
  }
  *port = hp.substr(colon + 1);
  if (host->empty() || port->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("target ", hp, ": expected host:port"));
  }
  return absl::OkStatus();
}

// Every address `hp` resolves to (getaddrinfo: IP literals resolve to themselves).
absl::Status Resolve(const std::string& hp, std::set<std::string>* out) {
  std::string host, port;
  if (absl::Status s = SplitHostPort(hp, &host, &port); !s.ok()) return s;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return absl::UnavailableError(absl::StrCat("resolving ", hp, ": ", gai_strerror(rc)));
  }
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
      out->insert(absl::StrCat(text, ":", ntohs(in->sin_port)));
    } else if (a->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
      out->insert(absl::StrCat("[", text, "]:", ntohs(in6->sin6_port)));
    }
  }
  freeaddrinfo(res);
  return absl::OkStatus();
}

// Codes that say "this server cannot do it now", not "the request is wrong": the shard is
// worth trying on another server.
bool ServerFault(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kFailedPrecondition:  // the stream ended before its summary
    case absl::StatusCode::kCancelled:           // cancelled by the server, not by us
      return true;
    default:
      return false;
  }
}

// A tensor input with one row per trajectory of `total`: the rows of [first, first + count).
void SliceInputs(const v1::Inputs& in, int64_t total, int64_t first, int64_t count,
                 v1::Inputs* out) {
  if (!in.has_values() || in.values().shape_size() != 2 || in.values().shape(0) != total ||
      total <= 1) {
    *out = in;  // a sampler, shared row or defaults: the same for every shard
    return;
  }
  const v1::Tensor& t = in.values();
  v1::Tensor* o = out->mutable_values();
  o->set_dtype(t.dtype());
  o->add_shape(count);
  o->add_shape(t.shape(1));
  const size_t row_bytes = t.data().size() / static_cast<size_t>(total);
  o->set_data(t.data().substr(static_cast<size_t>(first) * row_bytes,
                              static_cast<size_t>(count) * row_bytes));
}

// One shard: a trajectory range and, once its call succeeded, its results.
struct Shard {
  int64_t first = 0;
  int64_t count = 0;
  // Once its call succeeded (its rows are then in the call's result):
  std::string server;
  v1::SolveAccepted accepted;
  v1::SolveSummary summary;
};

// The state one sharded call shares between its worker threads.
class ShardedCall {
 public:
  ShardedCall(std::vector<Shard> shards, int64_t total, int servers)
      : shards_(std::move(shards)), total_(total), failed_(servers, false), alive_(servers) {
    for (size_t i = 0; i < shards_.size(); ++i) pending_.push_back(static_cast<int>(i));
  }

  // The next shard for server `s`, or -1 when it should stop (all done, a fatal error, or
  // `s` failed).
  int Next(int s) {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !fatal_.ok() || done_ == static_cast<int>(shards_.size()) || failed_[s] ||
             !pending_.empty();
    };
    mu_.Await(absl::Condition(&ready));
    if (!fatal_.ok() || failed_[s] || pending_.empty()) return -1;
    const int i = pending_.front();
    pending_.pop_front();
    return i;
  }
  const Shard& shard(int i) const { return shards_[i]; }

  // Registers a shard call's context so a fatal error elsewhere cancels it.
  void Register(grpc::ClientContext* ctx) {
    absl::MutexLock lock(&mu_);
    contexts_.insert(ctx);
    if (!fatal_.ok()) ctx->TryCancel();
  }
  void Unregister(grpc::ClientContext* ctx) {
    absl::MutexLock lock(&mu_);
    contexts_.erase(ctx);
  }

  // Shard `i` succeeded on `server`: its rows go straight into the call's result (sized for
  // every trajectory when the first shard arrives), so a large ensemble is held about once.
  void Succeeded(int i, const std::string& server, SolveResult r) {
    const int64_t first = shards_[i].first, count = shards_[i].count;
    v1::SolveAccepted accepted = r.accepted;  // small; kept for the merged summary
    v1::SolveSummary summary = r.summary;
    bool placed = false;
    {
      absl::MutexLock lock(&out_mu_);
      if (!out_ready_) {
        out_ready_ = true;
        if (shards_.size() == 1) {
          out_ = std::move(r);  // the whole ensemble: nothing to place
          placed = true;
        } else {
          out_.num_save = r.num_save;
          out_.num_states = r.num_states;
          out_.dtype = r.dtype;
          out_.accepted = r.accepted;
          out_.summary = r.summary;
          const size_t n = static_cast<size_t>(total_);
          out_.states.resize(n * r.num_save * r.num_states);
          out_.retcodes.resize(n);
          out_.accepted_steps.resize(n);
          out_.rejected_steps.resize(n);
        }
      }
    }
    if (!placed) {
      if (r.num_save != out_.num_save || r.num_states != out_.num_states || r.dtype != out_.dtype ||
          r.trajectories != count) {
        Failed(i, -1, server,
               absl::DataLossError(absl::StrCat("shard [", first, ", +", count, ") from ", server,
                                                " does not match the other shards' shape")));
        return;
      }
      // Disjoint ranges of arrays that no longer change size: no lock needed.
      const size_t per = static_cast<size_t>(r.num_save) * r.num_states;
      std::copy(r.states.begin(), r.states.end(), out_.states.begin() + first * per);
      std::copy(r.retcodes.begin(), r.retcodes.end(), out_.retcodes.begin() + first);
      std::copy(r.accepted_steps.begin(), r.accepted_steps.end(),
                out_.accepted_steps.begin() + first);
      std::copy(r.rejected_steps.begin(), r.rejected_steps.end(),
                out_.rejected_steps.begin() + first);
    }
    absl::MutexLock lock(&mu_);
    shards_[i].server = server;
    shards_[i].accepted = std::move(accepted);
    shards_[i].summary = std::move(summary);
    ++done_;
  }

  // Shard `i` failed on server `s`: queued again for the others when `status` is the
  // server's fault (and `s` takes no more), else the call fails with it.
  void Failed(int i, int s, const std::string& server, const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    if (!fatal_.ok()) return;  // cancelled because of another shard's error
    if (s < 0 || !ServerFault(status.code())) {
      fatal_ = status;
      for (grpc::ClientContext* c : contexts_) c->TryCancel();
      return;
    }
    ++retries_;
    pending_.push_front(i);
    if (!failed_[s]) {
      failed_[s] = true;
      failed_servers_.push_back(server);
      if (--alive_ == 0) {
        fatal_ = absl::Status(status.code(), absl::StrCat("every server failed; the last (", server,
                                                          ") said: ", status.message()));
        for (grpc::ClientContext* c : contexts_) c->TryCancel();
      }
    }
  }

  void FirstChunk(absl::Time t) {
    absl::MutexLock lock(&mu_);
    if (t < first_chunk_) first_chunk_ = t;
  }

  // After every worker has returned.
  absl::Status fatal() {
    absl::MutexLock lock(&mu_);
    return fatal_;
  }
  std::vector<Shard>& shards() { return shards_; }
  SolveResult& result() { return out_; }
  int retries() {
    absl::MutexLock lock(&mu_);
    return retries_;
  }
  std::vector<std::string> failed_servers() {
    absl::MutexLock lock(&mu_);
    return failed_servers_;
  }
  absl::Time first_chunk() {
    absl::MutexLock lock(&mu_);
    return first_chunk_;
  }

 private:
  absl::Mutex mu_;
  std::vector<Shard> shards_;  // results written under mu_, read after the workers end
  const int64_t total_;
  absl::Mutex out_mu_;  // guards the allocation of out_; its rows are written lock-free
  bool out_ready_ ABSL_GUARDED_BY(out_mu_) = false;
  SolveResult out_;
  std::deque<int> pending_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> failed_ ABSL_GUARDED_BY(mu_);
  int alive_ ABSL_GUARDED_BY(mu_);
  int done_ ABSL_GUARDED_BY(mu_) = 0;
  int retries_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status fatal_ ABSL_GUARDED_BY(mu_);
  std::set<grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> failed_servers_ ABSL_GUARDED_BY(mu_);
  absl::Time first_chunk_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
};

// Runs one shard's Solve call to the end; its results or why not.
absl::StatusOr<SolveResult> RunShard(v1::EnsembleSolver::Stub* stub, const v1::SolveRequest& req,
                                     absl::Time deadline, ShardedCall* call) {
  grpc::ClientContext ctx;
  if (deadline != absl::InfiniteFuture()) ctx.set_deadline(absl::ToChronoTime(deadline));
  call->Register(&ctx);
  std::unique_ptr<grpc::ClientReader<v1::SolveResponse>> reader = stub->Solve(&ctx, req);
  ResultAssembler assembler;
  v1::SolveResponse response;
  absl::Status broken;
  bool first = true;
  while (reader->Read(&response)) {
    if (first && response.has_chunk()) {
      call->FirstChunk(absl::Now());
      first = false;
    }
    broken = assembler.Add(response);
    if (!broken.ok()) {
      ctx.TryCancel();
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  call->Unregister(&ctx);
  if (!broken.ok()) return broken;
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  }
  return assembler.Take();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ResolveTarget(const std::string& target) {
  absl::string_view t = target;
  std::vector<std::string> elements;
  bool literal = false;
  if (absl::ConsumePrefix(&t, "dns:")) {
    // dns:///host:port or dns://authority/host:port: the authority (a DNS server) is not
    // supported by getaddrinfo; it is ignored.
    if (absl::ConsumePrefix(&t, "//")) {
      const size_t slash = t.find('/');
      if (slash == absl::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("target ", target, ": expected dns:///host:port"));
      }
      t.remove_prefix(slash + 1);
    }
    elements.push_back(std::string(t));
  } else if (absl::ConsumePrefix(&t, "ipv4:") || absl::ConsumePrefix(&t, "ipv6:")) {
    literal = true;
    for (absl::string_view e : absl::StrSplit(t, ',', absl::SkipEmpty())) {
      elements.push_back(std::string(e));
    }
  } else if (absl::StartsWith(t, "unix:")) {
    return std::vector<std::string>{target};
  } else {
    for (absl::string_view e : absl::StrSplit(t, ',', absl::SkipEmpty())) {
      elements.push_back(std::string(absl::StripAsciiWhitespace(e)));
    }
  }
  if (elements.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("target ", target, ": no address"));
  }
  std::set<std::string> addresses;
  for (const std::string& e : elements) {
    if (literal) {
      std::string host, port;
      if (absl::Status s = SplitHostPort(e, &host, &port); !s.ok()) return s;
    }
    if (absl::Status s = Resolve(e, &addresses); !s.ok()) return s;
  }
  if (addresses.empty()) {
    return absl::UnavailableError(absl::StrCat("target ", target, ": no address"));
  }
  return std::vector<std::string>(addresses.begin(), addresses.end());
}

int64_t RequestedTrajectories(const v1::SolveRequest& request) {
  if (request.trajectories() > 0) return request.trajectories();
  int64_t rows = 0;
  for (const v1::Inputs* in : {&request.u0(), &request.params()}) {
    if (in->has_values() && in->values().shape_size() == 2) {
      rows = std::max<int64_t>(rows, in->values().shape(0));
    }
  }
  if (rows > 1) return rows;
  for (const v1::Inputs* in : {&request.u0(), &request.params()}) {
    if (in->has_sampler() && in->sampler().has_grid()) {
      int64_t points = 1;
      for (int64_t p : in->sampler().grid().points()) {
        if (p <= 0 || points > INT64_MAX / p) return 0;
        points *= p;
      }
      return std::max<int64_t>(0, points - request.first_trajectory());
    }
  }
  return 0;
}

v1::SolveRequest ShardRequest(const v1::SolveRequest& request, int64_t total, int64_t first,
                              int64_t count) {
  v1::SolveRequest sub;
  // Everything but the inputs, which may be large, is copied as is.
  switch (request.model_case()) {
    case v1::SolveRequest::kModelSource:
      sub.set_model_source(request.model_source());
      break;
    case v1::SolveRequest::kModelId:
      sub.set_model_id(request.model_id());
      break;
    case v1::SolveRequest::kRawKernel:
      *sub.mutable_raw_kernel() = request.raw_kernel();
      break;
    default:
      break;
  }
  *sub.mutable_options() = request.options();
  sub.set_batch_size(request.batch_size());
  sub.set_request_id(request.request_id());
  sub.set_trajectories(count);
  sub.set_first_trajectory(request.first_trajectory() + first);
  if (request.has_u0()) SliceInputs(request.u0(), total, first, count, sub.mutable_u0());
  if (request.has_params()) {
    SliceInputs(request.params(), total, first, count, sub.mutable_params());
  }
  return sub;
}

absl::StatusOr<std::unique_ptr<ShardedClient>> ShardedClient::Connect(const std::string& target,
                                                                      const Options& options) {
  // Fail early on a target that cannot work; it is resolved again on every call.
  absl::StatusOr<std::vector<std::string>> addresses = ResolveTarget(target);
  if (!addresses.ok()) return addresses.status();
  return std::unique_ptr<ShardedClient>(new ShardedClient(target, options));
}

v1::EnsembleSolver::Stub* ShardedClient::StubFor(const std::string& address) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<v1::EnsembleSolver::Stub>& stub = stubs_[address];
  if (stub == nullptr) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(options_.client.max_receive_message_bytes);
    args.SetMaxSendMessageSize(options_.client.max_send_message_bytes);
    // A server that vanishes without closing its connections (a node lost) is noticed
    // within ~40 s instead of never; ensolved accepts pings this often.
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
    stub = v1::EnsembleSolver::NewStub(
        grpc::CreateCustomChannel(address, ChannelCredentials(options_.client.tls), args));
  }
  return stub.get();
}

absl::StatusOr<SolveResult> ShardedClient::Solve(const v1::SolveRequest& request,
                                                 const CallOptions& options, ShardStats* stats) {
  if (request.has_reductions()) {
    // Each shard's statistics would need merging here (Chan et al.'s update over the
    // shards' counts, means and variances); until then, say so rather than drop them.
    return absl::UnimplementedError(
        "reductions: the sharded client does not merge statistics across servers yet; send "
        "the request to one server with Client");
  }
  const absl::Time start = absl::Now();
  const absl::Time deadline = options.timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                                          : start + options.timeout;
  absl::StatusOr<std::vector<std::string>> addresses = ResolveTarget(target_);
  if (!addresses.ok()) return addresses.status();
  const int servers = static_cast<int>(addresses->size());

  // Unknown size (the server works it out): one shard of everything.
  const int64_t n = RequestedTrajectories(request);
  int64_t num_shards = 1;
  if (n > 0 && servers > 1) {
    const int64_t min_shard = std::max<int64_t>(1, options_.min_shard_trajectories);
    num_shards = std::clamp<int64_t>((n + min_shard - 1) / min_shard, 1,
                                     int64_t{servers} * std::max(1, options_.shards_per_server));
  }
  std::vector<Shard> shards(static_cast<size_t>(num_shards));
  for (int64_t i = 0; i < num_shards; ++i) {
    shards[i].first = n * i / num_shards;
    shards[i].count = n * (i + 1) / num_shards - shards[i].first;
  }
  ShardedCall call(std::move(shards), n, servers);

  std::vector<std::thread> workers;
  for (int s = 0; s < servers; ++s) {
    v1::EnsembleSolver::Stub* stub = StubFor((*addresses)[s]);
    for (int k = 0; k < std::max(1, options_.calls_per_server); ++k) {
      workers.emplace_back([&, s, stub] {
        const std::string& address = (*addresses)[s];
        for (int i = call.Next(s); i >= 0; i = call.Next(s)) {
          const Shard& shard = call.shard(i);
          const v1::SolveRequest sub =
              n > 0 ? ShardRequest(request, n, shard.first, shard.count) : request;
          absl::StatusOr<SolveResult> r = RunShard(stub, sub, deadline, &call);
          if (r.ok()) {
            call.Succeeded(i, address, std::move(*r));
          } else {
            call.Failed(i, s, address, r.status());
          }
        }
      });
    }
  }
  for (std::thread& w : workers) w.join();
  if (stats != nullptr) {
    *stats = ShardStats();
    stats->servers = servers;
    stats->shards = static_cast<int>(num_shards);
    stats->retries = call.retries();
    stats->failed_servers = call.failed_servers();
  }
  if (absl::Status fatal = call.fatal(); !fatal.ok()) return fatal;

  // Every shard succeeded and its rows are in place: merge what the shards said.
  std::vector<Shard>& done = call.shards();
  SolveResult out = std::move(call.result());
  std::vector<std::string> job_ids;
  std::set<std::string> devices;
  std::map<std::string, int64_t> retcodes;
  int64_t batches = 0, bytes = 0;
  double queue_seconds = 0, solve_seconds = 0;
  for (const Shard& shard : done) {
    job_ids.push_back(shard.accepted.job_id());
    batches += shard.summary.batches();
    bytes += shard.summary.bytes_streamed();
    queue_seconds += shard.summary.queue_seconds();
    solve_seconds += shard.summary.solve_seconds();
    for (const auto& [code, count] : shard.summary.retcode_counts()) retcodes[code] += count;
    for (const std::string& d : shard.summary.devices()) {
      devices.insert(absl::StrCat(shard.server, "/", d));
    }
    if (stats != nullptr) {
      stats->trajectories_by_server[shard.server] +=
          n > 0 ? shard.count : shard.summary.trajectories();
    }
  }
  out.trajectories = n > 0 ? n : out.trajectories;
  out.accepted.set_trajectories(out.trajectories);
  out.accepted.set_batches(batches);
  out.accepted.set_job_id(absl::StrJoin(job_ids, ","));
  v1::SolveSummary& sum = out.summary;
  sum.set_trajectories(out.trajectories);
  sum.clear_retcode_counts();
  for (const auto& [code, count] : retcodes) (*sum.mutable_retcode_counts())[code] = count;
  sum.set_wall_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  sum.set_queue_seconds(queue_seconds);
  sum.set_solve_seconds(solve_seconds);
  const absl::Time first_chunk = call.first_chunk();
  sum.set_first_batch_seconds(
      first_chunk == absl::InfiniteFuture() ? 0 : absl::ToDoubleSeconds(first_chunk - start));
  sum.set_batches(batches);
  sum.clear_devices();
  for (const std::string& d : devices) sum.add_devices(d);
  sum.set_bytes_streamed(bytes);
  return out;
}

}  // namespace ensolve
