#include "server/fair_queue.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ensolve::server {
namespace {

// What a visit adds to a tenant's deficit, times its weight: one unit of work (one
// trajectory-step). It must be the same in every Pick: a lap is often split over two Picks
// (the winner is served mid-lap and the next Pick goes on from the tenant after it), and a
// quantum that changed between them (the smallest cost among the candidates, as it once
// was) credited the two halves at different rates, which moved the shares off the weights
// by up to 11% for some mixes of task sizes. Its size does not cost Picks (rounds are
// skipped arithmetically); small against the costs, it makes the service order close to
// that of weighted fair queueing.
constexpr double kQuantum = 1.0;

}  // namespace

void FairQueue::Add(JobKey job, const std::string& tenant, SharePolicy policy) {
  auto it =
      std::find_if(ring_.begin(), ring_.end(), [&](const Tenant& t) { return t.name == tenant; });
  if (it == ring_.end()) {
    ring_.push_back(Tenant{tenant, policy, 0, {}});
    it = ring_.end() - 1;
  }
  it->policy = policy;
  it->jobs.push_back(job);
  tenant_of_[job] = tenant;
}

void FairQueue::Remove(JobKey job) {
  auto owner = tenant_of_.find(job);
  if (owner == tenant_of_.end()) return;
  const std::string& name = owner->second;
  auto it =
      std::find_if(ring_.begin(), ring_.end(), [&](const Tenant& t) { return t.name == name; });
  tenant_of_.erase(owner);
  if (it == ring_.end()) return;
  it->jobs.erase(std::remove(it->jobs.begin(), it->jobs.end(), job), it->jobs.end());
  if (!it->jobs.empty()) return;
  // The tenant leaves the ring; the one after it is visited next.
  const size_t i = static_cast<size_t>(it - ring_.begin());
  ring_.erase(it);
  if (i < next_) --next_;
  if (next_ >= ring_.size()) next_ = 0;
}

const FairQueue::JobKey* FairQueue::FirstReady(const Tenant& t,
                                               absl::FunctionRef<bool(JobKey)> ready) {
  for (const JobKey& j : t.jobs) {
    if (ready(j)) return &j;
  }
  return nullptr;
}

std::optional<FairQueue::JobKey> FairQueue::Pick(absl::FunctionRef<bool(JobKey)> ready,
                                                 absl::FunctionRef<double(JobKey)> cost) {
  const size_t n = ring_.size();
  if (n == 0) return std::nullopt;
  // The tenants that could be served: ready, at the highest priority level among the ready.
  struct Candidate {
    size_t index;
    size_t position;  // visiting order: next_ first, the tenant served last last
    JobKey job;
    double cost;
  };
  std::vector<const JobKey*> head(n, nullptr);
  int top = std::numeric_limits<int>::min();
  for (size_t i = 0; i < n; ++i) {
    head[i] = FirstReady(ring_[i], ready);
    if (head[i] != nullptr) top = std::max(top, ring_[i].policy.priority);
  }
  std::vector<Candidate> cands;
  for (size_t i = 0; i < n; ++i) {
    Tenant& t = ring_[i];
    if (head[i] == nullptr || t.policy.priority != top) {
      t.deficit = std::min(t.deficit, 0.0);  // not served now: banks nothing
      continue;
    }
    const double c = std::max(cost(*head[i]), std::numeric_limits<double>::min());
    cands.push_back(Candidate{i, (i + n - next_) % n, *head[i], c});
  }
  if (cands.empty()) return std::nullopt;

  // The tenant served last goes on while its deficit covers its next task.
  const Candidate* winner = nullptr;
  const size_t last = (next_ + n - 1) % n;
  for (const Candidate& c : cands) {
    if (c.index == last && ring_[c.index].deficit >= c.cost) winner = &c;
  }
  if (winner == nullptr) {
    // Otherwise the lap goes on: each tenant visited gains kQuantum x weight and is served
    // once its deficit covers its task. The winner is the one needing the fewest rounds
    // (ties: the first visited); the rounds before are applied at once.
    double best_rounds = std::numeric_limits<double>::infinity();
    for (const Candidate& c : cands) {
      const Tenant& t = ring_[c.index];
      const double rounds =
          std::max(1.0, std::ceil((c.cost - t.deficit) / (kQuantum * t.policy.weight)));
      if (rounds < best_rounds || (rounds == best_rounds && c.position < winner->position)) {
        best_rounds = rounds;
        winner = &c;
      }
    }
    for (const Candidate& c : cands) {
      Tenant& t = ring_[c.index];
      const double visits = c.position <= winner->position ? best_rounds : best_rounds - 1;
      t.deficit += visits * kQuantum * t.policy.weight;
    }
  }
  Tenant& t = ring_[winner->index];
  t.deficit -= winner->cost;
  next_ = (winner->index + 1) % n;
  // The job goes to the back of its tenant's turn.
  const JobKey job = winner->job;
  t.jobs.erase(std::find(t.jobs.begin(), t.jobs.end(), job));
  t.jobs.push_back(job);
  return job;
}

void FairQueue::Settle(JobKey job, double charged, double actual) {
  auto owner = tenant_of_.find(job);
  if (owner == tenant_of_.end()) return;
  for (Tenant& t : ring_) {
    if (t.name != owner->second) continue;
    const double before = t.deficit;
    t.deficit += charged - actual;
    // A refund repays a debt; it never becomes credit.
    if (charged > actual) t.deficit = std::min(t.deficit, std::max(before, 0.0));
  }
}

double FairQueue::deficit(const std::string& tenant) const {
  for (const Tenant& t : ring_) {
    if (t.name == tenant) return t.deficit;
  }
  return 0;
}

}  // namespace ensolve::server
