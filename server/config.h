// Configuration of ensolved. Built from flags (ENSOLVE_* environment variables override
// the defaults, command-line flags override both) by ConfigFromFlags() in flags.cc, or
// filled in directly by tests and embedders.
#ifndef ENSOLVE_SERVER_CONFIG_H_
#define ENSOLVE_SERVER_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "engine/model/limits.h"

namespace ensolve::server {

struct ServerConfig {
  // gRPC listening address, host:port; port 0 picks a free one (see EnsolveServer::port()).
  // ensolved's --address defaults to loopback unless the server authenticates callers
  // (DefaultAddress()).
  std::string address = "127.0.0.1:50051";
  // Prometheus /metrics: host and port of the HTTP listener; port -1 disables it, 0 picks
  // a free one.
  std::string metrics_host = "0.0.0.0";
  int metrics_port = 9464;

  // Devices: "auto" (every GPU the build supports, else the CPU), "cpu", "gpu".
  std::string devices = "auto";
  // CPU backend threads; <= 0 uses every hardware thread.
  int threads = 0;

  // Batching and per-request limits (see ServerLimits in solver.proto).
  int64_t default_batch_size = 10000;
  int64_t max_batch_size = 1000000;
  // When a request leaves batch_size to the server, batches are also kept to about this
  // many states bytes, so saveat-heavy jobs stream while they compute and hold little
  // memory (final-state-only jobs are unaffected: 10,000 x 24 bytes is far below).
  int64_t batch_output_bytes = int64_t{16} << 20;
  int64_t max_trajectories = 100000000;
  int64_t max_save_points = 100000;
  int64_t max_output_bytes = int64_t{8} << 30;
  int64_t max_chunk_bytes = int64_t{2} << 20;
  int64_t max_request_bytes = int64_t{256} << 20;
  // Trajectories of all admitted, unfinished jobs together; more is RESOURCE_EXHAUSTED.
  int64_t max_queued_trajectories = int64_t{1} << 30;
  // Results of finished batches a stream may hold before its job pauses (backpressure).
  int stream_buffer_batches = 2;
  // Longest a batch runs on a device whose backend can slice it (the CPU's) before the
  // scheduler gives others a turn; the rest of the batch resumes later. 0: no slices.
  absl::Duration batch_slice = absl::Seconds(1);

  // Budgets (docs/reliability.md, "Budgets"). Memory is estimated from each request and
  // reserved before it is allocated: decoded inputs, buffered results, batch work, compile
  // work. memory_budget 0: half of what the process may use (physical memory, the cgroup
  // limit, the address-space limit less what is mapped at start, whichever is least).
  int64_t memory_budget = 0;
  int64_t max_request_memory = int64_t{2} << 30;
  int64_t tenant_max_memory = 0;  // 0: no per-tenant limit
  // Compute: trajectories x max_steps of one request, and a cap on its run time.
  int64_t max_request_steps = int64_t{10000000000000};  // 1e13
  absl::Duration max_job_time = absl::Hours(1);         // 0: none
  // A write its client has not taken for this long cancels the call (0: never).
  absl::Duration stream_unread_timeout = absl::Seconds(60);
  // Per tenant (0: no limit): admitted unfinished jobs, their trajectories, their
  // trajectory-steps.
  int64_t tenant_max_jobs = 0;
  int64_t tenant_max_trajectories = 0;
  int64_t tenant_max_steps = 0;
  // Detached jobs (SubmitJob; detached_jobs.h): an ended job and its messages are dropped
  // this long after it ended; the bytes of messages one job keeps before it pauses; the
  // jobs one tenant may keep.
  absl::Duration job_ttl = absl::Hours(1);
  int64_t job_kept_bytes = int64_t{256} << 20;
  int64_t max_kept_jobs = 64;
  // With a spill folder, kept messages go to one file per job there instead of memory:
  // at most job_spill_bytes per job and job_spill_total_bytes over all jobs on disk.
  std::string job_spill_dir;  // empty: kept in memory
  int64_t job_spill_bytes = int64_t{4} << 30;
  int64_t job_spill_total_bytes = int64_t{64} << 30;
  // Model compilation pool: threads, waiting compiles, waiting compiles of one tenant.
  int compile_threads = 2;
  int compile_queue = 16;
  int tenant_compile_queue = 8;
  // "token tenant" lines; empty: no authentication, every caller is tenant "default".
  std::string tokens_file;
  // TLS: the server's certificate chain and key (PEM files; both or neither), and the CA
  // whose client certificates it requires (mutual TLS; empty: none asked).
  std::string tls_cert_file, tls_key_file, tls_client_ca_file;

  // Whether callers must prove who they are (bearer tokens or client certificates).
  bool authenticates() const { return !tokens_file.empty() || !tls_client_ca_file.empty(); }
  // The address when none is given: every interface for a server that authenticates,
  // loopback for one that does not.
  std::string DefaultAddress() const {
    return authenticates() ? "0.0.0.0:50051" : "127.0.0.1:50051";
  }

  // Model text limits; ensolved sets max_compile_seconds from --max_compile_time (30 s).
  ModelLimits model_limits;
  // Raw CUDA kernels (SolveRequest.raw_kernel): taken without a tokens file only when
  // allowed (with one, from tenants with the capability `raw`); the largest source. NVRTC
  // compiles one in at most model_limits.max_compile_seconds.
  bool allow_raw_kernels = false;
  int64_t max_raw_kernel_bytes = 64 * 1024;
  // Parsed models kept by content hash: at most this many, and about this many bytes
  // (ModelCache::ModelBytes() each).
  int model_cache_size = 256;
  int64_t model_cache_bytes = int64_t{1} << 30;

  // SIGTERM: how long in-flight jobs may take to finish before they are cancelled.
  absl::Duration drain_deadline = absl::Seconds(30);
  // Written with the bound gRPC port once the server listens (empty: not written).
  std::string port_file;
  // Written with the bound /metrics port once the server listens (empty: not written).
  std::string metrics_port_file;
  // Connections get a GOAWAY after this long (0: never), so that clients resolve the
  // target again and reach servers started since; calls already running on the old
  // connection may go on for max_connection_age_grace.
  absl::Duration max_connection_age = absl::ZeroDuration();
  absl::Duration max_connection_age_grace = absl::InfiniteDuration();
  // Log lines: "kv" (key=value) or "json".
  std::string log_format = "kv";
};

}  // namespace ensolve::server

#endif  // ENSOLVE_SERVER_CONFIG_H_
