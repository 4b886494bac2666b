// The stream's side of reductions: merges each batch's statistics into the job's, in batch
// order (a batch that finishes early waits for the ones before it, so the figures are the
// same whichever device finished first), says when a batch may be released to the
// scheduler, and writes ReductionResult messages.
//
// Memory: the job's statistics plus those of batches waiting for an earlier one. A batch
// is released (BatchScheduler::Consumed) only once it is merged, and streamed when states
// are kept, so the scheduler's window bounds the waiting ones.
//
// Thread-safety: none; used under the SolveStream's lock.
#ifndef ENSOLVE_SERVER_REDUCTION_STREAM_H_
#define ENSOLVE_SERVER_REDUCTION_STREAM_H_

#include <cstdint>
#include <map>
#include <set>

#include "absl/time/time.h"
#include "engine/reduction.h"
#include "ensolve/v1/solver.pb.h"
#include "server/reduction_request.h"

namespace ensolve::server {

class ReductionStream {
 public:
  ReductionStream(const ReductionRequest& request, absl::Time start);

  // Batch `index`'s statistics. Returns how many batches became releasable.
  int Add(int64_t index, Reduction reduction);
  // Batch `index`'s chunks are all written (call at once when states are not kept).
  // Returns how many batches became releasable.
  int Streamed(int64_t index);

  // Whether a partial result is due at `now` (partial_seconds passed since the last one
  // and batches were merged since).
  bool PartialDue(absl::Time now) const;
  // The statistics merged so far into `out`.
  void Fill(bool final, absl::Time now, v1::ReductionResult* out);

  // The reduction's description for SolveAccepted.
  void Describe(const std::vector<std::string>& quantities, v1::ReductionInfo* info) const;

  const Reduction& merged() const { return merged_; }
  int64_t merged_batches() const { return next_; }

 private:
  int Release();

  const ReductionRequest& request_;
  Reduction merged_;
  int64_t next_ = 0;                      // batches [0, next_) are merged
  std::map<int64_t, Reduction> waiting_;  // arrived, not merged yet
  std::set<int64_t> streamed_;            // written, not released (not merged yet)
  absl::Time last_partial_;
  int64_t partial_merged_ = 0;  // next_ when the last partial was sent
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_REDUCTION_STREAM_H_
