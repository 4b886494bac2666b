// The budgets' state as /metrics series, computed at scrape time:
//   ensolve_memory_reserved_bytes     bytes reserved by requests now (MemoryBudget)
//   ensolve_memory_budget_bytes       the server's memory budget (--memory_budget, or auto)
//   ensolve_compile_queue_depth       models waiting for the compile pool
//   ensolve_compiles_running          models being compiled now
//   ensolve_queued_trajectories       trajectories counted against --max_queued_trajectories
//
// Thread-safety: Collect() may run on any thread, concurrently. The context must outlive
// the collector's registration (EnsolveServer removes it before the context goes).
#ifndef ENSOLVE_SERVER_BUDGET_METRICS_H_
#define ENSOLVE_SERVER_BUDGET_METRICS_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "server/service.h"

namespace ensolve::server {

class BudgetCollector : public prometheus::Collectable {
 public:
  explicit BudgetCollector(ServiceContext* context) : ctx_(context) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  ServiceContext* const ctx_;
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_BUDGET_METRICS_H_
