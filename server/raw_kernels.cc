#include "server/raw_kernels.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ensolve::server {

namespace {

absl::Status CheckDevices(const std::vector<std::string>& devices) {
  for (const std::string& d : devices) {
    if (!absl::StartsWith(d, "cuda:")) {
      return absl::FailedPreconditionError(absl::StrCat(
          "raw_kernel: raw CUDA kernels need every device of the server to be a GPU; this server "
          "has ",
          absl::StrJoin(devices, ", "), " (send the model as model_source to solve it here)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRawKernelAllowed(const std::string& tenant, const TenantResolver& tenants,
                                   const ServerConfig& config,
                                   const std::vector<std::string>& devices) {
  if (absl::Status s = tenants.RequireRawKernels(tenant, config.allow_raw_kernels); !s.ok()) {
    return s;
  }
  return CheckDevices(devices);
}

absl::Status CheckRawKernelRequest(const v1::SolveRequest& request, const std::string& tenant,
                                   const TenantResolver& tenants, const ServerConfig& config,
                                   const std::vector<std::string>& devices) {
  if (request.model_case() != v1::SolveRequest::kRawKernel) return absl::OkStatus();
  if (absl::Status s = tenants.RequireRawKernels(tenant, config.allow_raw_kernels); !s.ok()) {
    return s;
  }
  const size_t bytes = request.raw_kernel().cuda_source().size();
  if (static_cast<int64_t>(bytes) > config.max_raw_kernel_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("raw_kernel.cuda_source: ", bytes, " bytes, over the server's limit of ",
                     config.max_raw_kernel_bytes, " (--max_raw_kernel_bytes)"));
  }
  return CheckDevices(devices);
}

RawKernelSpec RawKernelSpecOf(const v1::RawKernel& raw) {
  RawKernelSpec spec;
  spec.cuda_source = raw.cuda_source();
  spec.states.assign(raw.states().begin(), raw.states().end());
  spec.params.assign(raw.params().begin(), raw.params().end());
  spec.state_defaults.assign(raw.state_defaults().begin(), raw.state_defaults().end());
  spec.param_defaults.assign(raw.param_defaults().begin(), raw.param_defaults().end());
  return spec;
}

}  // namespace ensolve::server
