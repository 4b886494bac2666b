// What a Solve request will cost the server, estimated from the request before the memory
// is allocated or the work started: the figures MemoryBudget and the compute limits check.
//
// Memory of one job (held from admission until the call ends):
//   decoded inputs   dense u0/params as float64 (a float32 tensor doubles), and the wire
//                    tensors gRPC keeps until the call ends
//   buffered results up to stream_buffer_batches + devices finished batches per job (the
//                    backpressure window), each states + retcodes + t_final + step counts
//   batch work       per batch on a device at once: the inputs drawn for the batch (sampled
//                    or following the parameters) and its result arrays being filled
//   chunk            the message being written and gRPC's serialized copy of it
//   reductions       per batch its statistics (instead of its states when those are not
//                    streamed), the job's merged statistics, batches waiting to merge in
//                    order (the window) and the ReductionResult being written
// Compile work: CompileBytesEstimate() per model source byte (measured, docs/reliability.md).
// Compute: trajectories x max_steps, the most steps the job can take.
#ifndef ENSOLVE_SERVER_REQUEST_COST_H_
#define ENSOLVE_SERVER_REQUEST_COST_H_

#include <cstdint>
#include <string>

#include "ensolve/v1/solver.pb.h"
#include "server/config.h"
#include "server/job.h"

namespace ensolve::server {

// Bytes the decoded u0/params/t0/t1/saveat tensors of `request` will take, and the wire
// tensors.
int64_t InputBytesEstimate(const v1::SolveRequest& request);

// Bytes parsing and compiling a model of `source_bytes` may take at its peak.
int64_t CompileBytesEstimate(int64_t source_bytes);

struct JobCost {
  int64_t result_bytes = 0;  // buffered results (the window)
  int64_t work_bytes = 0;    // running batches' working arrays
  int64_t chunk_bytes = 0;   // the message in flight
  int64_t steps = 0;         // trajectories x max_steps (saturating)
  int64_t memory() const { return result_bytes + work_bytes + chunk_bytes; }
  // "2 batches of results 1.0 GiB, batch work 3.1 GiB, chunk 4.0 MiB".
  std::string Describe() const;
};

// The cost of running `spec` with `num_devices` devices and `config`'s window.
JobCost EstimateJobCost(const JobSpec& spec, const ServerConfig& config, int num_devices);

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_REQUEST_COST_H_
