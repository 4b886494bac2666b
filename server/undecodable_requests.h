// Undecodable requests: gRPC 1.51's callback service answers a request whose bytes do not
// parse as its method's message with UNIMPLEMENTED and no message
// (grpcpp/impl/codegen/server_callback_handlers.h), before any handler of ours runs. The
// interceptor made here turns that answer into INVALID_ARGUMENT naming the message the
// method expects, and counts it (ensolve_undecodable_requests_total and
// ensolve_requests_total).
#ifndef ENSOLVE_SERVER_UNDECODABLE_REQUESTS_H_
#define ENSOLVE_SERVER_UNDECODABLE_REQUESTS_H_

#include <memory>

#include "grpcpp/support/server_interceptor.h"
#include "server/metrics.h"

namespace ensolve::server {

// For ServerBuilder::experimental().SetInterceptorCreators; `metrics` outlives the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewUndecodableRequestInterceptorFactory(Metrics* metrics);

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_UNDECODABLE_REQUESTS_H_
