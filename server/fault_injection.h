// Injected device faults, for testing how the server survives a failing device (the
// scheduler's retries and out-of-service rule, the load-and-fault test). Off unless
// ENSOLVE_INJECT_FAULTS is set; never set it in production.
//
//   ENSOLVE_INJECT_FAULTS="<device>:<first>:<count>[,...]"
//
// makes device number <device> (in --devices order, from 0) fail <count> batches with
// INTERNAL "injected fault", from its <first>-th (from 0); a count of 0 fails every batch
// from <first> on.
#ifndef ENSOLVE_SERVER_FAULT_INJECTION_H_
#define ENSOLVE_SERVER_FAULT_INJECTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/devices.h"

namespace ensolve::server {

struct InjectedFault {
  int device = 0;
  int64_t first = 0;
  int64_t count = 0;  // 0: every batch from `first` on
};

// Parses the variable's value; INVALID_ARGUMENT names the bad part.
absl::StatusOr<std::vector<InjectedFault>> ParseInjectedFaults(const std::string& spec);

// Wraps the backends of `devices` that `faults` name.
void InjectFaults(const std::vector<InjectedFault>& faults, std::vector<Device>* devices);

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_FAULT_INJECTION_H_
