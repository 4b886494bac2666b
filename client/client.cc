#include "client/client.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/tensor.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace ensolve {
namespace {

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  // grpc::StatusCode and absl::StatusCode share their numbering.
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

void ApplyOptions(const CallOptions& options, const std::string& token, grpc::ClientContext* ctx) {
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  if (options.timeout != absl::InfiniteDuration()) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      absl::ToChronoMicroseconds(options.timeout));
  }
}

template <typename... Parts>
absl::Status Broken(const Parts&... parts) {
  return absl::InvalidArgumentError(absl::StrCat("Solve stream: ", parts...));
}

bool TurnedOff(const char* env) {
  const char* v = std::getenv(env);
  return v != nullptr && std::string(v) == "0";
}

// The elements of a tensor's little-endian bytes as T, read one by one: a random-access
// iterator for vector::insert, which constructs the new elements straight from it (no
// zero-fill first), widening float32 to double on the way.
template <class T>
class LittleEndian {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = const T*;
  using reference = T;

  explicit LittleEndian(const char* p) : p_(p) {}
  T operator*() const {
    T v;
    std::memcpy(&v, p_, sizeof(T));
    return v;
  }
  T operator[](difference_type i) const { return *(*this + i); }
  LittleEndian& operator++() {
    p_ += sizeof(T);
    return *this;
  }
  LittleEndian operator++(int) {
    LittleEndian old = *this;
    p_ += sizeof(T);
    return old;
  }
  LittleEndian& operator--() {
    p_ -= sizeof(T);
    return *this;
  }
  LittleEndian& operator+=(difference_type n) {
    p_ += n * static_cast<difference_type>(sizeof(T));
    return *this;
  }
  LittleEndian operator+(difference_type n) const { return LittleEndian(*this) += n; }
  difference_type operator-(const LittleEndian& o) const {
    return (p_ - o.p_) / static_cast<difference_type>(sizeof(T));
  }
  bool operator==(const LittleEndian& o) const { return p_ == o.p_; }
  bool operator!=(const LittleEndian& o) const { return p_ != o.p_; }
  bool operator<(const LittleEndian& o) const { return p_ < o.p_; }

 private:
  const char* p_;
};

template <class T, class V>
void Append(std::vector<V>* v, const std::string& bytes) {
  v->insert(v->end(), LittleEndian<T>(bytes.data()), LittleEndian<T>(bytes.data() + bytes.size()));
}

}  // namespace

ResultAssembler::~ResultAssembler() { JoinPrefault(); }

void ResultAssembler::StartPrefault() {
#ifdef MADV_POPULATE_WRITE
  if (TurnedOff("ENSOLVE_CLIENT_PREFAULT")) return;
  constexpr uintptr_t kPage = 4096;
  constexpr size_t kPiece = size_t{4} << 20;
  struct Range {
    uintptr_t begin, end;
  };
  std::vector<Range> pieces;
  size_t total = 0;
  auto add = [&](const void* data, size_t bytes) {
    const uintptr_t b = (reinterpret_cast<uintptr_t>(data) + kPage - 1) & ~(kPage - 1);
    const uintptr_t e = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kPage - 1);
    for (uintptr_t p = b; p < e; p += kPiece)
      pieces.push_back({p, std::min<uintptr_t>(e, p + kPiece)});
    if (e > b) total += e - b;
  };
  add(result_.states.data(), result_.states.capacity() * sizeof(double));
  add(result_.retcodes.data(), result_.retcodes.capacity());
  add(result_.accepted_steps.data(), result_.accepted_steps.capacity() * sizeof(int32_t));
  add(result_.rejected_steps.data(), result_.rejected_steps.capacity() * sizeof(int32_t));
  if (total < (size_t{16} << 20)) return;  // small results: not worth a thread
  const size_t threads = std::min<size_t>(4, total / (size_t{16} << 20));
  for (size_t t = 0; t < threads; ++t) {
    prefault_.emplace_back([pieces, t, threads] {
      for (size_t i = t; i < pieces.size(); i += threads) {
        // Errors (an older kernel) only mean the writes fault the pages in later.
        madvise(reinterpret_cast<void*>(pieces[i].begin), pieces[i].end - pieces[i].begin,
                MADV_POPULATE_WRITE);
      }
    });
  }
#endif
}

void ResultAssembler::JoinPrefault() {
  for (std::thread& t : prefault_) t.join();
  prefault_.clear();
}

absl::Status ResultAssembler::Add(const v1::SolveResponse& r) {
  switch (r.message_case()) {
    case v1::SolveResponse::kAccepted: {
      if (accepted_) return Broken("a second SolveAccepted");
      const v1::SolveAccepted& a = r.accepted();
      accepted_ = true;
      result_.accepted = a;
      result_.trajectories = a.trajectories();
      // save_points is new; a server that predates it always sent the save times.
      result_.num_save = a.save_points() > 0 ? a.save_points() : a.save_times_size();
      result_.num_states = a.state_names_size();
      result_.dtype = a.dtype();
      if (!states_streamed()) return absl::OkStatus();  // statistics only: nothing to hold
      const size_t n = static_cast<size_t>(a.trajectories());
      // Room for everything, filled as chunks arrive (no zero-fill first), and backed with
      // memory in the background meanwhile.
      result_.states.reserve(n * result_.num_save * result_.num_states);
      result_.retcodes.reserve(n);
      result_.accepted_steps.reserve(n);
      result_.rejected_steps.reserve(n);
      result_.rhs_evals.reserve(n);
      result_.t_final.reserve(n);
      result_.num_sensitivities = a.sensitivities_size();
      if (result_.num_sensitivities > 0) {
        result_.sensitivities.resize(n * result_.num_save * result_.num_states *
                                     result_.num_sensitivities);
      }
      StartPrefault();
      return absl::OkStatus();
    }
    case v1::SolveResponse::kChunk:
      if (!accepted_) return Broken("a chunk before SolveAccepted");
      if (!states_streamed()) return Broken("a chunk although states are not streamed");
      return AddChunk(r.chunk());
    case v1::SolveResponse::kReduction: {
      if (!accepted_ || !result_.accepted.has_reductions()) {
        return Broken("a ReductionResult the request did not ask for");
      }
      absl::StatusOr<EnsembleStatistics> s =
          DecodeStatistics(result_.accepted.reductions(), r.reduction());
      if (!s.ok()) return Broken(std::string(s.status().message()));
      if (s->final) result_.statistics = *std::move(s);
      return absl::OkStatus();
    }
    case v1::SolveResponse::kSummary:
      if (!accepted_) return Broken("a summary before SolveAccepted");
      summarized_ = true;
      result_.summary = r.summary();
      return absl::OkStatus();
    default:
      return Broken("an empty message");
  }
}

absl::Status ResultAssembler::AddChunk(const v1::ResultChunk& c) {
  const int64_t first = c.first(), count = c.count();
  if (first < 0 || count < 0 || first > result_.trajectories - count) {
    return Broken("chunk [", first, ", +", count, ") outside ", result_.trajectories,
                  " trajectories");
  }
  const int64_t per = int64_t{result_.num_save} * result_.num_states;
  const v1::Tensor& st = c.states();
  if (st.shape_size() != 3 || st.shape(0) != count || st.shape(1) != result_.num_save ||
      st.shape(2) != result_.num_states || st.dtype() != result_.dtype) {
    return Broken("chunk states tensor does not match the accepted shape");
  }
  const int elem = DTypeSize(st.dtype());
  if (elem == 0 || static_cast<int64_t>(st.data().size()) != count * per * elem ||
      static_cast<int64_t>(c.retcodes().data().size()) != count ||
      static_cast<int64_t>(c.accepted_steps().data().size()) != count * 4 ||
      static_cast<int64_t>(c.rejected_steps().data().size()) != count * 4 ||
      static_cast<int64_t>(c.rhs_evals().data().size()) != count * 4 ||
      static_cast<int64_t>(c.t_final().data().size()) != count * 8) {
    return Broken("chunk tensors have the wrong number of bytes");
  }
  const int m = result_.num_sensitivities;
  if (m > 0) {
    const v1::Tensor& se = c.sensitivities();
    if (se.shape_size() != 4 || se.shape(0) != count || se.shape(1) != result_.num_save ||
        se.shape(2) != result_.num_states || se.shape(3) != m || se.dtype() != result_.dtype ||
        static_cast<int64_t>(se.data().size()) != count * per * m * elem) {
      return Broken("chunk sensitivities tensor does not match the accepted shape");
    }
  }
  if (count == 0) return absl::OkStatus();
  // Every trajectory once: the new range must not overlap any received one.
  const int64_t end = first + count;
  auto next = arrived_.lower_bound(first);
  if (next != arrived_.end() && next->first < end) {
    return absl::DataLossError(
        absl::StrCat("Solve stream: trajectory ", next->first, " arrived twice"));
  }
  auto prev = next == arrived_.begin() ? arrived_.end() : std::prev(next);
  if (prev != arrived_.end() && prev->second > first) {
    return absl::DataLossError(absl::StrCat("Solve stream: trajectory ", first, " arrived twice"));
  }
  int64_t begin = first, stop = end;
  if (prev != arrived_.end() && prev->second == first) {
    begin = prev->first;
    arrived_.erase(prev);
  }
  if (next != arrived_.end() && next->first == end) {
    stop = next->second;
    arrived_.erase(next);
  }
  arrived_[begin] = stop;

  if (static_cast<int64_t>(result_.retcodes.size()) == first) {
    // In order (the usual case): append.
    if (elem == 8) {
      Append<double>(&result_.states, st.data());
    } else {
      Append<float>(&result_.states, st.data());
    }
    Append<uint8_t>(&result_.retcodes, c.retcodes().data());
    Append<int32_t>(&result_.accepted_steps, c.accepted_steps().data());
    Append<int32_t>(&result_.rejected_steps, c.rejected_steps().data());
    Append<int32_t>(&result_.rhs_evals, c.rhs_evals().data());
    Append<double>(&result_.t_final, c.t_final().data());
  } else {
    Grow(end);
    std::copy(LittleEndian<uint8_t>(c.retcodes().data().data()),
              LittleEndian<uint8_t>(c.retcodes().data().data() + count),
              result_.retcodes.begin() + first);
    double* dst = result_.states.data() + first * per;
    const char* src = st.data().data();
    if (elem == 8) {
      std::copy(LittleEndian<double>(src), LittleEndian<double>(src) + count * per, dst);
    } else {
      std::copy(LittleEndian<float>(src), LittleEndian<float>(src) + count * per, dst);
    }
    std::memcpy(result_.accepted_steps.data() + first, c.accepted_steps().data().data(), count * 4);
    std::memcpy(result_.rejected_steps.data() + first, c.rejected_steps().data().data(), count * 4);
    std::memcpy(result_.rhs_evals.data() + first, c.rhs_evals().data().data(), count * 4);
    std::copy(LittleEndian<double>(c.t_final().data().data()),
              LittleEndian<double>(c.t_final().data().data()) + count,
              result_.t_final.begin() + first);
  }
  if (m > 0) {
    double* dst = result_.sensitivities.data() + first * per * m;
    const char* src = c.sensitivities().data().data();
    if (elem == 8) {
      std::copy(LittleEndian<double>(src), LittleEndian<double>(src) + count * per * m, dst);
    } else {
      std::copy(LittleEndian<float>(src), LittleEndian<float>(src) + count * per * m, dst);
    }
  }
  // The inputs used, when the request asked for them, and per-trajectory save times:
  // [trajectories][dims] row-major.
  for (const auto& [tensor, dst] :
       {std::pair{&c.params(), &result_.params}, std::pair{&c.u0(), &result_.u0_used},
        std::pair{&c.save_times(), &result_.save_times}}) {
    if (tensor->shape_size() != 2 || tensor->shape(0) != count) continue;
    const int64_t dims = tensor->shape(1);
    if (static_cast<int64_t>(tensor->data().size()) != count * dims * 8) {
      return Broken("chunk input tensors have the wrong number of bytes");
    }
    dst->resize(static_cast<size_t>(result_.trajectories * dims));
    std::copy(LittleEndian<double>(tensor->data().data()),
              LittleEndian<double>(tensor->data().data()) + count * dims,
              dst->begin() + first * dims);
  }
  if (c.has_events_fired()) {
    if (static_cast<int64_t>(c.events_fired().data().size()) != count * 4) {
      return Broken("chunk events_fired tensor has the wrong number of bytes");
    }
    result_.events_fired.resize(static_cast<size_t>(result_.trajectories));
    std::memcpy(result_.events_fired.data() + first, c.events_fired().data().data(), count * 4);
  }
  received_ += count;
  return absl::OkStatus();
}

void ResultAssembler::Grow(int64_t trajectories) {
  const size_t n = static_cast<size_t>(trajectories);
  if (result_.retcodes.size() >= n) return;
  // Chunks usually arrive in order, so this appends; a gap left by a chunk still to come
  // is zero-filled now and overwritten when it arrives. Within the reserved capacity.
  result_.states.resize(n * result_.num_save * result_.num_states);
  result_.retcodes.resize(n);
  result_.accepted_steps.resize(n);
  result_.rejected_steps.resize(n);
  result_.rhs_evals.resize(n);
  result_.t_final.resize(n);
}

absl::StatusOr<SolveResult> ResultAssembler::Take() {
  if (!accepted_ || !summarized_) {
    return absl::FailedPreconditionError("Solve stream ended before its summary");
  }
  if (result_.accepted.has_reductions() && !result_.statistics.has_value()) {
    return absl::DataLossError("Solve stream: no final ReductionResult");
  }
  if (!states_streamed()) {
    JoinPrefault();
    return std::move(result_);
  }
  if (received_ != result_.trajectories) {
    return absl::DataLossError(absl::StrCat("Solve stream: ", received_, " of ",
                                            result_.trajectories, " trajectories arrived"));
  }
  Grow(result_.trajectories);  // a no-op once every trajectory has arrived
  JoinPrefault();
  return std::move(result_);
}

std::unique_ptr<Client> Client::Connect(const std::string& target, const Options& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  args.SetMaxSendMessageSize(options.max_send_message_bytes);
  args.SetLoadBalancingPolicyName("round_robin");
  return std::make_unique<Client>(
      grpc::CreateCustomChannel(target, ChannelCredentials(options.tls), args),
      options.bearer_token);
}

Client::Client(std::shared_ptr<grpc::Channel> channel, std::string bearer_token)
    : channel_(std::move(channel)),
      stub_(v1::EnsembleSolver::NewStub(channel_)),
      bearer_token_(std::move(bearer_token)) {}

absl::StatusOr<SolveResult> Client::Solve(const v1::SolveRequest& request,
                                          const CallOptions& options) {
  ResultAssembler assembler;
  absl::Status s = SolveStream(
      request, [&](const v1::SolveResponse& r) { return assembler.Add(r); }, options);
  if (!s.ok()) return s;
  return assembler.Take();
}

absl::Status Client::SolveStream(const v1::SolveRequest& request,
                                 const ResponseHandler& on_response, const CallOptions& options) {
  grpc::ClientContext ctx;
  ApplyOptions(options, bearer_token_, &ctx);
  std::unique_ptr<grpc::ClientReader<v1::SolveResponse>> reader = stub_->Solve(&ctx, request);
  v1::SolveResponse response;
  absl::Status handler_status;
  while (reader->Read(&response)) {
    handler_status = on_response(response);
    if (!handler_status.ok()) {
      ctx.TryCancel();
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  if (!handler_status.ok()) return handler_status;
  return FromGrpc(status);
}

absl::StatusOr<v1::SolveAccepted> Client::SubmitJob(const v1::SolveRequest& request,
                                                    const CallOptions& options) {
  grpc::ClientContext ctx;
  ApplyOptions(options, bearer_token_, &ctx);
  v1::SubmitJobResponse resp;
  grpc::Status s = stub_->SubmitJob(&ctx, request, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp.accepted();
}

absl::Status Client::WatchJob(const std::string& job_id, const ResponseHandler& on_response,
                              int64_t from_offset, const CallOptions& options, int64_t* received) {
  int64_t offset = from_offset;
  int failures = 0;
  absl::Duration backoff = absl::Milliseconds(100);
  for (;;) {
    grpc::ClientContext ctx;
    ApplyOptions(options, bearer_token_, &ctx);
    v1::WatchJobRequest req;
    req.set_job_id(job_id);
    req.set_from_offset(offset);
    std::unique_ptr<grpc::ClientReader<v1::SolveResponse>> reader = stub_->WatchJob(&ctx, req);
    v1::SolveResponse response;
    absl::Status handler_status;
    bool summary = false, progressed = false;
    while (reader->Read(&response)) {
      ++offset;
      progressed = true;
      summary = summary || response.has_summary();
      handler_status = on_response(response);
      if (!handler_status.ok()) {
        ctx.TryCancel();
        break;
      }
    }
    const grpc::Status status = reader->Finish();
    if (received != nullptr) *received = offset;
    if (!handler_status.ok()) return handler_status;
    if (status.ok() && summary) return absl::OkStatus();
    const bool paused = status.ok();  // OK before the summary: watch on from `offset`
    if (!paused && (status.error_code() != grpc::StatusCode::UNAVAILABLE ||
                    (!progressed && ++failures > kWatchRetries))) {
      return FromGrpc(status);
    }
    if (progressed) {
      failures = 0;
      backoff = absl::Milliseconds(100);
    } else {
      // Nothing came (paused with no room yet, or the server is out of reach): wait.
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
  }
}

absl::StatusOr<SolveResult> Client::WatchJobResult(const std::string& job_id,
                                                   const CallOptions& options) {
  ResultAssembler assembler;
  absl::Status s = WatchJob(
      job_id, [&](const v1::SolveResponse& r) { return assembler.Add(r); }, 0, options);
  if (!s.ok()) return s;
  return assembler.Take();
}

absl::StatusOr<v1::JobInfo> Client::CancelJob(const std::string& job_id,
                                              const CallOptions& options) {
  grpc::ClientContext ctx;
  ApplyOptions(options, bearer_token_, &ctx);
  v1::CancelJobRequest req;
  req.set_job_id(job_id);
  v1::JobInfo info;
  grpc::Status s = stub_->CancelJob(&ctx, req, &info);
  if (!s.ok()) return FromGrpc(s);
  return info;
}

absl::StatusOr<std::vector<v1::JobInfo>> Client::ListJobs(const CallOptions& options) {
  grpc::ClientContext ctx;
  ApplyOptions(options, bearer_token_, &ctx);
  v1::ListJobsResponse resp;
  grpc::Status s = stub_->ListJobs(&ctx, v1::ListJobsRequest(), &resp);
  if (!s.ok()) return FromGrpc(s);
  return std::vector<v1::JobInfo>(resp.jobs().begin(), resp.jobs().end());
}

absl::StatusOr<v1::CompileModelResponse> Client::CompileModel(const std::string& model_source,
                                                              const CallOptions& options) {
  grpc::ClientContext ctx;
  ApplyOptions(options, bearer_token_, &ctx);
  v1::CompileModelRequest req;
  req.set_model_source(model_source);
  v1::CompileModelResponse resp;
  grpc::Status s = stub_->CompileModel(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<v1::ServerInfo> Client::GetServerInfo(const CallOptions& options) {
  grpc::ClientContext ctx;
  ApplyOptions(options, bearer_token_, &ctx);
  v1::ServerInfo info;
  grpc::Status s = stub_->GetServerInfo(&ctx, v1::GetServerInfoRequest(), &info);
  if (!s.ok()) return FromGrpc(s);
  return info;
}

}  // namespace ensolve
