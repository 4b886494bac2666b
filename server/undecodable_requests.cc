#include "server/undecodable_requests.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "server/status_adapter.h"

namespace ensolve::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

// One per call. At POST_RECV_MESSAGE a null message means that the request did not parse;
// at PRE_SEND_STATUS gRPC's UNIMPLEMENTED for it becomes INVALID_ARGUMENT.
class UndecodableRequestInterceptor : public grpc::experimental::Interceptor {
 public:
  UndecodableRequestInterceptor(Metrics* metrics, const google::protobuf::MethodDescriptor* method)
      : metrics_(metrics), method_(method), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      undecodable_ = true;
    }
    if (undecodable_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      methods->ModifySendStatus(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("the request is not a valid ", method_->input_type()->full_name(),
                       " (protobuf decoding failed): send the message ", method_->name(),
                       " takes, serialized as protobuf")));
      metrics_->CountUndecodable(method_->name());
      metrics_->RecordRequest(method_->name(), GrpcCodeName(grpc::StatusCode::INVALID_ARGUMENT),
                              absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  Metrics* const metrics_;
  const google::protobuf::MethodDescriptor* const method_;
  const absl::Time start_;
  bool undecodable_ = false;
};

class UndecodableRequestInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit UndecodableRequestInterceptorFactory(Metrics* metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // "/ensolve.v1.EnsembleSolver/Solve" → "ensolve.v1.EnsembleSolver.Solve". Methods whose
    // messages this binary does not know (health, reflection, unknown names) are left alone.
    const std::string path = info->method() == nullptr ? "" : info->method();
    if (path.size() < 2 || path[0] != '/') return nullptr;
    const google::protobuf::MethodDescriptor* method =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
            absl::StrReplaceAll(path.substr(1), {{"/", "."}}));
    if (method == nullptr || method->service()->file()->package() != "ensolve.v1") {
      return nullptr;
    }
    return new UndecodableRequestInterceptor(metrics_, method);
  }

 private:
  Metrics* const metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewUndecodableRequestInterceptorFactory(Metrics* metrics) {
  return std::make_unique<UndecodableRequestInterceptorFactory>(metrics);
}

}  // namespace ensolve::server
