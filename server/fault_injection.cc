#include "server/fault_injection.h"

#include <atomic>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ensolve::server {
namespace {

// A backend whose Solve fails for the batches of `fault`, counted from its first call.
class FaultyBackend final : public Backend {
 public:
  FaultyBackend(std::unique_ptr<Backend> inner, InjectedFault fault)
      : inner_(std::move(inner)), fault_(fault) {}

  std::string name() const override { return inner_->name(); }
  absl::StatusOr<std::unique_ptr<PreparedModel>> Prepare(const Model& model,
                                                         const SolveOptions& options) override {
    return inner_->Prepare(model, options);
  }
  absl::StatusOr<BatchResult> Solve(const PreparedModel& prepared, const SolveOptions& options,
                                    const BatchInputs& inputs, const CancelFlag* cancel) override {
    const int64_t call = calls_.fetch_add(1);
    if (call >= fault_.first && (fault_.count == 0 || call < fault_.first + fault_.count)) {
      return absl::InternalError(
          absl::StrCat("injected fault (ENSOLVE_INJECT_FAULTS, call ", call, ")"));
    }
    return inner_->Solve(prepared, options, inputs, cancel);
  }

 private:
  const std::unique_ptr<Backend> inner_;
  const InjectedFault fault_;
  std::atomic<int64_t> calls_{0};
};

}  // namespace

absl::StatusOr<std::vector<InjectedFault>> ParseInjectedFaults(const std::string& spec) {
  std::vector<InjectedFault> out;
  for (absl::string_view part : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    std::vector<absl::string_view> f = absl::StrSplit(part, ':');
    InjectedFault fault;
    if (f.size() != 3 || !absl::SimpleAtoi(f[0], &fault.device) ||
        !absl::SimpleAtoi(f[1], &fault.first) || !absl::SimpleAtoi(f[2], &fault.count) ||
        fault.device < 0 || fault.first < 0 || fault.count < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("ENSOLVE_INJECT_FAULTS: '", std::string(part),
                       "' is not <device>:<first>:<count> (numbers >= 0)"));
    }
    out.push_back(fault);
  }
  return out;
}

void InjectFaults(const std::vector<InjectedFault>& faults, std::vector<Device>* devices) {
  for (const InjectedFault& f : faults) {
    if (f.device >= static_cast<int>(devices->size())) continue;
    Device& d = (*devices)[f.device];
    d.backend = std::make_unique<FaultyBackend>(std::move(d.backend), f);
  }
}

}  // namespace ensolve::server
