// Raw CUDA kernels in requests (SolveRequest.raw_kernel; docs/api.md, "Raw CUDA kernels"):
// who may send one and where it can run, checked before anything is reserved or compiled.
//
// Thread-safety: pure functions.
#ifndef ENSOLVE_SERVER_RAW_KERNELS_H_
#define ENSOLVE_SERVER_RAW_KERNELS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/model/raw_kernel.h"
#include "ensolve/v1/solver.pb.h"
#include "server/config.h"
#include "server/tenant.h"

namespace ensolve::server {

// OK if `tenant` may run raw kernels here. Otherwise PERMISSION_DENIED unless the tenant
// may send them (TenantResolver::RequireRawKernels), then FAILED_PRECONDITION when some
// device of the server is not a GPU (`devices`: the scheduler's names, "cuda:0", "cpu").
// Checked for a raw_kernel request before anything is reserved, and again for a model_id
// naming a raw-kernel model (the tenant's rights may have changed since).
absl::Status CheckRawKernelAllowed(const std::string& tenant, const TenantResolver& tenants,
                                   const ServerConfig& config,
                                   const std::vector<std::string>& devices);

// For a request with a raw kernel (OK for any other): the permission, then INVALID_ARGUMENT
// for a source over config.max_raw_kernel_bytes, then the devices (CheckRawKernelAllowed).
absl::Status CheckRawKernelRequest(const v1::SolveRequest& request, const std::string& tenant,
                                   const TenantResolver& tenants, const ServerConfig& config,
                                   const std::vector<std::string>& devices);

RawKernelSpec RawKernelSpecOf(const v1::RawKernel& raw);

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_RAW_KERNELS_H_
