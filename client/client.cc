#include "client/client.h"

#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
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

void ApplyOptions(const CallOptions& options, grpc::ClientContext* ctx) {
  if (options.timeout != absl::InfiniteDuration()) {
    ctx->set_deadline(std::chrono::system_clock::now() +
                      absl::ToChronoMicroseconds(options.timeout));
  }
}

template <typename... Parts>
absl::Status Broken(const Parts&... parts) {
  return absl::InvalidArgumentError(absl::StrCat("Solve stream: ", parts...));
}

}  // namespace

absl::Status ResultAssembler::Add(const v1::SolveResponse& r) {
  switch (r.message_case()) {
    case v1::SolveResponse::kAccepted: {
      if (accepted_) return Broken("a second SolveAccepted");
      const v1::SolveAccepted& a = r.accepted();
      accepted_ = true;
      result_.accepted = a;
      result_.trajectories = a.trajectories();
      result_.num_save = a.save_times_size();
      result_.num_states = a.state_names_size();
      result_.dtype = a.dtype();
      const size_t n = static_cast<size_t>(a.trajectories());
      result_.states.assign(n * result_.num_save * result_.num_states, 0.0);
      result_.retcodes.assign(n, 0);
      result_.accepted_steps.assign(n, 0);
      result_.rejected_steps.assign(n, 0);
      seen_.assign(n, false);
      return absl::OkStatus();
    }
    case v1::SolveResponse::kChunk:
      if (!accepted_) return Broken("a chunk before SolveAccepted");
      return AddChunk(r.chunk());
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
      static_cast<int64_t>(c.rejected_steps().data().size()) != count * 4) {
    return Broken("chunk tensors have the wrong number of bytes");
  }
  for (int64_t i = first; i < first + count; ++i) {
    if (seen_[i]) {
      return absl::DataLossError(absl::StrCat("Solve stream: trajectory ", i, " arrived twice"));
    }
    seen_[i] = true;
  }
  double* dst = result_.states.data() + first * per;
  const char* src = st.data().data();
  if (elem == 8) {
    std::memcpy(dst, src, static_cast<size_t>(count * per * 8));
  } else {
    for (int64_t k = 0; k < count * per; ++k) {
      float f;
      std::memcpy(&f, src + 4 * k, 4);
      dst[k] = f;
    }
  }
  std::memcpy(result_.retcodes.data() + first, c.retcodes().data().data(), count);
  std::memcpy(result_.accepted_steps.data() + first, c.accepted_steps().data().data(), count * 4);
  std::memcpy(result_.rejected_steps.data() + first, c.rejected_steps().data().data(), count * 4);
  received_ += count;
  return absl::OkStatus();
}

absl::StatusOr<SolveResult> ResultAssembler::Take() {
  if (!accepted_ || !summarized_) {
    return absl::FailedPreconditionError("Solve stream ended before its summary");
  }
  if (received_ != result_.trajectories) {
    return absl::DataLossError(absl::StrCat("Solve stream: ", received_, " of ",
                                            result_.trajectories, " trajectories arrived"));
  }
  return std::move(result_);
}

std::unique_ptr<Client> Client::Connect(const std::string& target, const Options& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  args.SetMaxSendMessageSize(options.max_send_message_bytes);
  args.SetLoadBalancingPolicyName("round_robin");
  return std::make_unique<Client>(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
}

Client::Client(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)), stub_(v1::EnsembleSolver::NewStub(channel_)) {}

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
  ApplyOptions(options, &ctx);
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

absl::StatusOr<v1::CompileModelResponse> Client::CompileModel(const std::string& model_source,
                                                              const CallOptions& options) {
  grpc::ClientContext ctx;
  ApplyOptions(options, &ctx);
  v1::CompileModelRequest req;
  req.set_model_source(model_source);
  v1::CompileModelResponse resp;
  grpc::Status s = stub_->CompileModel(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<v1::ServerInfo> Client::GetServerInfo(const CallOptions& options) {
  grpc::ClientContext ctx;
  ApplyOptions(options, &ctx);
  v1::ServerInfo info;
  grpc::Status s = stub_->GetServerInfo(&ctx, v1::GetServerInfoRequest(), &info);
  if (!s.ok()) return FromGrpc(s);
  return info;
}

}  // namespace ensolve
