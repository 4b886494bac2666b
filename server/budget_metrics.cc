#include "server/budget_metrics.h"

#include <utility>

namespace ensolve::server {

std::vector<prometheus::MetricFamily> BudgetCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  auto gauge = [&out](const char* name, const char* help, double v) {
    prometheus::MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = prometheus::MetricType::Gauge;
    prometheus::ClientMetric m;
    m.gauge.value = v;
    f.metric.push_back(std::move(m));
    out.push_back(std::move(f));
  };
  gauge("ensolve_memory_reserved_bytes", "Bytes reserved by requests in the memory budget",
        static_cast<double>(ctx_->memory().reserved()));
  gauge("ensolve_memory_budget_bytes", "The server's memory budget (--memory_budget)",
        static_cast<double>(ctx_->memory().limits().server_bytes));
  gauge("ensolve_compile_queue_depth", "Models waiting to be compiled",
        ctx_->compile_pool().queued());
  gauge("ensolve_compiles_running", "Models being compiled", ctx_->compile_pool().running());
  gauge("ensolve_queued_trajectories",
        "Trajectories counted against --max_queued_trajectories (held-back jobs excluded)",
        static_cast<double>(ctx_->scheduler().queued_trajectories()));
  return out;
}

}  // namespace ensolve::server
