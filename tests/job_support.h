// Helpers of the detached-job tests (detached_jobs_test.cc, job_spill_test.cc): a request
// that runs for minutes, results compared field by field, and polling ListJobs for a state.
#ifndef ENSOLVE_TESTS_JOB_SUPPORT_H_
#define ENSOLVE_TESTS_JOB_SUPPORT_H_

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {

// A request that runs for minutes: it is cancelled or the server stops first.
inline v1::SolveRequest Endless() {
  v1::SolveRequest req = LorenzRequest(10000, 1e6);
  req.set_batch_size(100);
  req.mutable_options()->set_adaptive(false);
  req.mutable_options()->set_dt(0.01);
  req.mutable_options()->set_max_steps(int64_t{200000000});
  return req;
}

// The same trajectories, bitwise: states, return codes, step counts, final times.
inline void ExpectSameResult(const SolveResult& a, const SolveResult& b) {
  ASSERT_EQ(a.trajectories, b.trajectories);
  EXPECT_EQ(a.states, b.states);
  EXPECT_EQ(a.retcodes, b.retcodes);
  EXPECT_EQ(a.accepted_steps, b.accepted_steps);
  EXPECT_EQ(a.rhs_evals, b.rhs_evals);
  EXPECT_EQ(a.t_final, b.t_final);
}

// The job's info once `done(info)` holds, polling ListJobs for up to 60 s; every state
// seen on the way is added to `*states` (may be null).
template <class Done>
v1::JobInfo WaitFor(Client& client, const std::string& id, Done done,
                    std::vector<v1::JobInfo::State>* states = nullptr) {
  v1::JobInfo last;
  for (int i = 0; i < 1200; ++i) {
    absl::StatusOr<std::vector<v1::JobInfo>> jobs = client.ListJobs();
    if (jobs.ok()) {
      for (const v1::JobInfo& j : *jobs) {
        if (j.job_id() == id) last = j;
      }
      if (states != nullptr && last.job_id() == id) states->push_back(last.state());
      if (last.job_id() == id && done(last)) return last;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ADD_FAILURE() << "job " << id << " never reached the state asked for; last "
                << last.ShortDebugString();
  return last;
}

}  // namespace ensolve::testing

#endif  // ENSOLVE_TESTS_JOB_SUPPORT_H_
