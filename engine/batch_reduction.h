// A finished batch's reduction computed on the host from its states (the CPU backend's way,
// right after the batch; also the fallback for a backend that returns no reduction).
#ifndef ENSOLVE_ENGINE_BATCH_REDUCTION_H_
#define ENSOLVE_ENGINE_BATCH_REDUCTION_H_

#include "absl/status/status.h"
#include "engine/batch.h"
#include "engine/cpu/thread_pool.h"
#include "engine/reduction.h"

namespace ensolve {

// Sets result->reduction from result's states and return codes; without spec.keep_states
// then empties the per-trajectory arrays. Save points are split over `pool`'s threads (may
// be null: this thread), each cell summed in trajectory order, so the figures do not depend
// on the thread count. INVALID_ARGUMENT when the shapes disagree.
absl::Status ReduceBatchOnHost(const ReductionSpec& spec, BatchResult* result,
                               cpu::ThreadPool* pool);

// Empties the per-trajectory arrays (states, return codes, final times, step counts).
void DropPerTrajectoryArrays(BatchResult* result);

}  // namespace ensolve

#endif  // ENSOLVE_ENGINE_BATCH_REDUCTION_H_
