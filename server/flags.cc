#include "server/flags.h"

#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/internal/program_name.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/version.h"

#ifndef ENSOLVE_BUILD_INFO
#define ENSOLVE_BUILD_INFO "unknown build"
#endif

ABSL_FLAG(std::string, address, "",
          "gRPC listening address, host:port (default: 0.0.0.0:50051 when callers are "
          "authenticated by --tokens_file or --tls_client_ca, else 127.0.0.1:50051)");
ABSL_FLAG(int, port, -1,
          "If >= 0, replaces the port of --address (0 picks a free port; see --port_file)");
ABSL_FLAG(std::string, port_file, "",
          "Write the bound gRPC port to this file once listening (for scripts)");
ABSL_FLAG(std::string, metrics_host, "",
          "Host of the Prometheus /metrics listener (empty: the host of --address)");
ABSL_FLAG(int, metrics_port, 9464, "Port of the Prometheus /metrics listener (-1 off, 0 any)");
ABSL_FLAG(std::string, devices, "auto",
          "Devices to solve on: auto, cpu, cpu:N (N CPU workers) or gpu");
ABSL_FLAG(int, threads, 0, "CPU backend threads (0: every hardware thread)");
ABSL_FLAG(int64_t, batch_size, 10000, "Default trajectories per batch");
ABSL_FLAG(int64_t, max_batch_size, 1000000, "Largest batch a request may ask for");
ABSL_FLAG(int64_t, batch_output_bytes, int64_t{16} << 20,
          "Default batches are cut to about this many states bytes (saveat-heavy jobs)");
ABSL_FLAG(int64_t, max_trajectories, 100000000, "Most trajectories per request");
ABSL_FLAG(int64_t, max_save_points, 100000, "Most save points per trajectory");
ABSL_FLAG(int64_t, max_output_bytes, int64_t{8} << 30, "Most states bytes per request");
ABSL_FLAG(int64_t, max_chunk_bytes, int64_t{2} << 20, "Most states bytes per result chunk");
ABSL_FLAG(int64_t, max_request_bytes, int64_t{256} << 20, "Largest SolveRequest accepted");
ABSL_FLAG(int64_t, max_queued_trajectories, int64_t{1} << 30,
          "Most trajectories of admitted, unfinished jobs; more is RESOURCE_EXHAUSTED");
ABSL_FLAG(int, stream_buffer_batches, 2,
          "Finished batches a stream may buffer before its job pauses (backpressure)");
ABSL_FLAG(int, model_cache_size, 256, "Parsed models kept in the cache");
ABSL_FLAG(absl::Duration, batch_slice, absl::Seconds(1),
          "Longest a CPU batch runs before other jobs get the device (its trajectories resume "
          "where they stopped); 0: batches run to the end");
ABSL_FLAG(int64_t, model_cache_bytes, int64_t{1} << 30,
          "About how many bytes of parsed models the cache keeps (66 per source byte each)");
ABSL_FLAG(absl::Duration, drain_deadline, absl::Seconds(30),
          "On SIGTERM, how long admitted jobs may take to finish");
ABSL_FLAG(std::string, log_format, "kv", "Log line format: kv (key=value) or json");
ABSL_FLAG(std::string, metrics_port_file, "",
          "Write the bound /metrics port to this file once listening (for scripts)");
ABSL_FLAG(absl::Duration, max_connection_age, absl::ZeroDuration(),
          "Close client connections (GOAWAY) after this long, so clients re-resolve and "
          "spread over new servers (0: never)");
ABSL_FLAG(absl::Duration, max_connection_age_grace, absl::InfiniteDuration(),
          "After --max_connection_age, how long calls on the old connection may still run "
          "(inf: until they end)");
// Budgets (docs/reliability.md, "Budgets").
ABSL_FLAG(int64_t, memory_budget, 0,
          "Bytes all requests together may make the server hold (inputs, buffered results, "
          "batch work, compiles), reserved from estimates before allocating; more is "
          "RESOURCE_EXHAUSTED (0: half of physical memory, the cgroup limit or ulimit -v)");
ABSL_FLAG(int64_t, max_request_memory, int64_t{2} << 30,
          "Bytes one request may make the server hold; more is RESOURCE_EXHAUSTED");
ABSL_FLAG(int64_t, tenant_max_memory, 0,
          "Bytes the requests of one tenant may make the server hold (0: no own limit)");
ABSL_FLAG(int64_t, max_request_steps, int64_t{10000000000000},
          "Most trajectories x options.max_steps of one request; more is RESOURCE_EXHAUSTED");
ABSL_FLAG(absl::Duration, max_job_time, absl::Hours(1),
          "A job still running after this long fails with RESOURCE_EXHAUSTED (0: never)");
ABSL_FLAG(absl::Duration, stream_unread_timeout, absl::Seconds(60),
          "A Solve stream whose client has not read for this long is cancelled, freeing its "
          "buffered results and admitted trajectories (0: never)");
ABSL_FLAG(absl::Duration, job_ttl, absl::Hours(1),
          "A detached job (SubmitJob) and its kept messages are dropped this long after it "
          "ended");
ABSL_FLAG(int64_t, job_kept_bytes, int64_t{256} << 20,
          "Bytes of messages one detached job keeps; at the bound it pauses until a WatchJob "
          "acknowledges some");
ABSL_FLAG(std::string, job_spill_dir, "",
          "Folder where detached jobs keep their messages on disk instead of in memory (one "
          "file per job, mode 0600; the pod's own volume). Empty: kept in memory");
ABSL_FLAG(int64_t, job_spill_bytes, int64_t{4} << 30,
          "With --job_spill_dir: bytes of messages one detached job keeps on disk; at the bound "
          "it pauses until a WatchJob acknowledges some");
ABSL_FLAG(int64_t, job_spill_total_bytes, int64_t{64} << 30,
          "With --job_spill_dir: bytes all detached jobs together keep on disk");
ABSL_FLAG(int64_t, max_kept_jobs, 64,
          "Detached jobs one tenant may keep (running or ended, until they expire)");
ABSL_FLAG(int64_t, tenant_max_jobs, 0, "Most admitted, unfinished jobs of one tenant (0: none)");
ABSL_FLAG(int64_t, tenant_max_trajectories, 0,
          "Most trajectories of one tenant's admitted, unfinished jobs (0: no limit)");
ABSL_FLAG(int64_t, tenant_max_steps, 0,
          "Most trajectories x max_steps of one tenant's admitted, unfinished jobs (0: none)");
ABSL_FLAG(int, compile_threads, 2,
          "Threads that parse and compile models (one is kept for small models when >= 2)");
ABSL_FLAG(int, compile_queue, 16, "Most models waiting to be compiled; more is RESOURCE_EXHAUSTED");
ABSL_FLAG(int, tenant_compile_queue, 8,
          "Most models of one tenant waiting to be compiled; more is RESOURCE_EXHAUSTED");
ABSL_FLAG(absl::Duration, max_compile_time, absl::Seconds(30),
          "Wall time compiling one model may take (derivatives, tape check); longer is "
          "RESOURCE_EXHAUSTED (0: no limit)");
ABSL_FLAG(int, max_identifier_length, 128,
          "Longest name or number in model text, in bytes; longer is INVALID_ARGUMENT");
ABSL_FLAG(bool, allow_raw_kernels, false,
          "Without --tokens_file: take raw CUDA kernels (SolveRequest.raw_kernel) from callers; "
          "with one, only tenants with caps=...,raw may send them");
ABSL_FLAG(int64_t, max_raw_kernel_bytes, 64 * 1024,
          "Largest raw CUDA kernel source, in bytes; larger is INVALID_ARGUMENT");
ABSL_FLAG(std::string, tokens_file, "",
          "File of \"token tenant\" lines: calls must send 'authorization: Bearer <token>' "
          "(UNAUTHENTICATED otherwise); re-read on SIGHUP. Empty: everyone is tenant default");
ABSL_FLAG(std::string, tls_cert, "",
          "TLS: the server's certificate chain (PEM file); with --tls_key. Empty: plaintext");
ABSL_FLAG(std::string, tls_key, "", "TLS: the server's private key (PEM file)");
ABSL_FLAG(std::string, tls_client_ca, "",
          "Mutual TLS: require client certificates signed by this CA (PEM file)");

namespace ensolve::server {
namespace {

constexpr const char* kFlagNames[] = {"address",
                                      "port",
                                      "port_file",
                                      "metrics_host",
                                      "metrics_port",
                                      "devices",
                                      "threads",
                                      "batch_size",
                                      "max_batch_size",
                                      "batch_output_bytes",
                                      "max_trajectories",
                                      "max_save_points",
                                      "max_output_bytes",
                                      "max_chunk_bytes",
                                      "max_request_bytes",
                                      "max_queued_trajectories",
                                      "stream_buffer_batches",
                                      "model_cache_size",
                                      "model_cache_bytes",
                                      "drain_deadline",
                                      "batch_slice",
                                      "log_format",
                                      "metrics_port_file",
                                      "max_connection_age",
                                      "max_connection_age_grace",
                                      "memory_budget",
                                      "max_request_memory",
                                      "tenant_max_memory",
                                      "max_request_steps",
                                      "max_job_time",
                                      "stream_unread_timeout",
                                      "job_ttl",
                                      "job_kept_bytes",
                                      "job_spill_dir",
                                      "job_spill_bytes",
                                      "job_spill_total_bytes",
                                      "max_kept_jobs",
                                      "tenant_max_jobs",
                                      "tenant_max_trajectories",
                                      "tenant_max_steps",
                                      "compile_threads",
                                      "compile_queue",
                                      "tenant_compile_queue",
                                      "max_compile_time",
                                      "max_identifier_length",
                                      "allow_raw_kernels",
                                      "max_raw_kernel_bytes",
                                      "tokens_file",
                                      "tls_cert",
                                      "tls_key",
                                      "tls_client_ca"};

// Read by the engine and the client rather than by flags (docs/api.md lists them).
constexpr const char* kOtherVariables[] = {
    "ENSOLVE_SERVER",       "ENSOLVE_CLIENT_PREFAULT", "ENSOLVE_CUDA_DEVICE_SAMPLING",
    "ENSOLVE_CUDA_PINNED",  "ENSOLVE_NVRTC",           "ENSOLVE_NVML",
    "ENSOLVE_TOKEN",        "ENSOLVE_CPU_ISA",         "ENSOLVE_CPU_DENSE_LU",
    "ENSOLVE_INJECT_FAULTS"};

// Abseil's own flags, which it handles itself.
constexpr const char* kAbseilFlags[] = {"help",     "helpfull",  "helpshort",  "helppackage",
                                        "helpon",   "helpmatch", "version",    "only_check_args",
                                        "flagfile", "fromenv",   "tryfromenv", "undefok"};

std::string* ProgramName() {
  static std::string* name = new std::string("ensolved");
  return name;
}

}  // namespace

std::vector<std::string> UnknownEnvironmentVariables(char** environ) {
  std::vector<std::string> unknown;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry = *e;
    if (!absl::StartsWith(entry, "ENSOLVE_")) continue;
    const std::string name(entry.substr(0, entry.find('=')));
    bool known = false;
    for (const char* flag : kFlagNames) {
      known |= name == absl::StrCat("ENSOLVE_", absl::AsciiStrToUpper(flag));
    }
    for (const char* other : kOtherVariables) known |= name == other;
    if (!known) unknown.push_back(name);
  }
  return unknown;
}

bool HandleHelp(int argc, char** argv) {
  absl::FlagsUsageConfig config;
  // Help lists flags by source file; name them by program instead of by build path.
  config.normalize_filename = [](absl::string_view file) {
    return absl::StrContains(file, "absl/") ? std::string("abseil") : *ProgramName();
  };
  config.contains_help_flags = [](absl::string_view file) { return file == *ProgramName(); };
  config.contains_helpshort_flags = config.contains_help_flags;
  config.version_string = [] {
    return absl::StrCat("ensolved ", kVersion, " (", ENSOLVE_BUILD_INFO, ")\n");
  };
  absl::SetFlagsUsageConfig(config);
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    const bool full = arg == "--helpfull" || arg == "-helpfull";
    if (full || arg == "--help" || arg == "-help" || arg == "--helpshort" || arg == "-helpshort") {
      absl::flags_internal::SetProgramInvocationName(argv[0]);
      absl::flags_internal::FlagsHelp(std::cout, full ? "" : *ProgramName(),
                                      absl::flags_internal::HelpFormat::kHumanReadable,
                                      absl::ProgramUsageMessage());
      std::cout.flush();
      return true;
    }
  }
  return false;
}

absl::Status CheckCommandLine(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const size_t eq = arg.find('=');
    const bool has_value = eq != absl::string_view::npos;
    const absl::string_view name = has_value ? arg.substr(0, eq) : arg;
    bool builtin = false;
    for (const char* f : kAbseilFlags) builtin |= name == f;
    if (builtin) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && !has_value && absl::StartsWith(name, "no")) {
      absl::CommandLineFlag* b = absl::FindCommandLineFlag(name.substr(2));
      if (b != nullptr && b->IsOfType<bool>()) continue;
    }
    if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    std::string value;
    if (has_value) {
      value = std::string(arg.substr(eq + 1));
    } else if (flag->IsOfType<bool>()) {
      continue;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
    }
    // Parse the value as Abseil will (then put the old one back) to report it here.
    const std::string saved = flag->CurrentValue();
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, "=", value, ": ", error));
    }
    flag->ParseFrom(saved, &error);
  }
  return absl::OkStatus();
}

absl::Status ApplyEnvironmentToFlags() {
  for (const char* name : kFlagNames) {
    const std::string var = absl::StrCat("ENSOLVE_", absl::AsciiStrToUpper(name));
    const char* value = std::getenv(var.c_str());
    if (value == nullptr) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    std::string error;
    if (flag == nullptr || !flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(var, "=", value, ": ", error));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerConfig> ConfigFromFlags() {
  ServerConfig c;
  c.tokens_file = absl::GetFlag(FLAGS_tokens_file);
  c.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  c.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  c.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key: give both or neither");
  }
  if (!c.tls_client_ca_file.empty() && c.tls_cert_file.empty()) {
    return absl::InvalidArgumentError("--tls_client_ca needs --tls_cert and --tls_key");
  }
  c.address = absl::GetFlag(FLAGS_address);
  if (c.address.empty()) c.address = c.DefaultAddress();
  if (const int port = absl::GetFlag(FLAGS_port); port >= 0) {
    const size_t colon = c.address.rfind(':');
    c.address = absl::StrCat(colon == std::string::npos ? c.address : c.address.substr(0, colon),
                             ":", port);
  }
  c.port_file = absl::GetFlag(FLAGS_port_file);
  c.metrics_host = absl::GetFlag(FLAGS_metrics_host);
  if (c.metrics_host.empty()) {  // the host of --address: loopback stays loopback
    const size_t colon = c.address.rfind(':');
    c.metrics_host = colon == std::string::npos ? "" : c.address.substr(0, colon);
    if (c.metrics_host.empty()) c.metrics_host = "0.0.0.0";
  }
  c.metrics_port = absl::GetFlag(FLAGS_metrics_port);
  c.devices = absl::GetFlag(FLAGS_devices);
  c.threads = absl::GetFlag(FLAGS_threads);
  c.default_batch_size = absl::GetFlag(FLAGS_batch_size);
  c.max_batch_size = absl::GetFlag(FLAGS_max_batch_size);
  c.batch_output_bytes = absl::GetFlag(FLAGS_batch_output_bytes);
  c.max_trajectories = absl::GetFlag(FLAGS_max_trajectories);
  c.max_save_points = absl::GetFlag(FLAGS_max_save_points);
  c.max_output_bytes = absl::GetFlag(FLAGS_max_output_bytes);
  c.max_chunk_bytes = absl::GetFlag(FLAGS_max_chunk_bytes);
  c.max_request_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  c.max_queued_trajectories = absl::GetFlag(FLAGS_max_queued_trajectories);
  c.stream_buffer_batches = absl::GetFlag(FLAGS_stream_buffer_batches);
  c.model_cache_size = absl::GetFlag(FLAGS_model_cache_size);
  c.model_cache_bytes = absl::GetFlag(FLAGS_model_cache_bytes);
  c.drain_deadline = absl::GetFlag(FLAGS_drain_deadline);
  c.batch_slice = absl::GetFlag(FLAGS_batch_slice);
  c.log_format = absl::GetFlag(FLAGS_log_format);
  c.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  c.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  c.max_connection_age_grace = absl::GetFlag(FLAGS_max_connection_age_grace);
  c.memory_budget = absl::GetFlag(FLAGS_memory_budget);
  c.max_request_memory = absl::GetFlag(FLAGS_max_request_memory);
  c.tenant_max_memory = absl::GetFlag(FLAGS_tenant_max_memory);
  c.max_request_steps = absl::GetFlag(FLAGS_max_request_steps);
  c.max_job_time = absl::GetFlag(FLAGS_max_job_time);
  c.stream_unread_timeout = absl::GetFlag(FLAGS_stream_unread_timeout);
  c.job_ttl = absl::GetFlag(FLAGS_job_ttl);
  c.job_kept_bytes = absl::GetFlag(FLAGS_job_kept_bytes);
  c.job_spill_dir = absl::GetFlag(FLAGS_job_spill_dir);
  c.job_spill_bytes = absl::GetFlag(FLAGS_job_spill_bytes);
  c.job_spill_total_bytes = absl::GetFlag(FLAGS_job_spill_total_bytes);
  c.max_kept_jobs = absl::GetFlag(FLAGS_max_kept_jobs);
  c.tenant_max_jobs = absl::GetFlag(FLAGS_tenant_max_jobs);
  c.tenant_max_trajectories = absl::GetFlag(FLAGS_tenant_max_trajectories);
  c.tenant_max_steps = absl::GetFlag(FLAGS_tenant_max_steps);
  c.compile_threads = absl::GetFlag(FLAGS_compile_threads);
  c.compile_queue = absl::GetFlag(FLAGS_compile_queue);
  c.tenant_compile_queue = absl::GetFlag(FLAGS_tenant_compile_queue);
  c.model_limits.max_identifier_length = absl::GetFlag(FLAGS_max_identifier_length);
  c.allow_raw_kernels = absl::GetFlag(FLAGS_allow_raw_kernels);
  c.max_raw_kernel_bytes = absl::GetFlag(FLAGS_max_raw_kernel_bytes);
  const absl::Duration compile_time = absl::GetFlag(FLAGS_max_compile_time);
  if (compile_time < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max_compile_time: must be >= 0");
  }
  c.model_limits.max_compile_seconds = absl::ToDoubleSeconds(compile_time);

  auto positive = [](const char* name, int64_t v) -> absl::Status {
    if (v > 0) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": must be > 0, got ", v));
  };
  for (const auto& [name, v] : {std::pair<const char*, int64_t>{"batch_size", c.default_batch_size},
                                {"max_batch_size", c.max_batch_size},
                                {"batch_output_bytes", c.batch_output_bytes},
                                {"max_trajectories", c.max_trajectories},
                                {"max_save_points", c.max_save_points},
                                {"max_output_bytes", c.max_output_bytes},
                                {"max_chunk_bytes", c.max_chunk_bytes},
                                {"max_request_bytes", c.max_request_bytes},
                                {"max_queued_trajectories", c.max_queued_trajectories},
                                {"stream_buffer_batches", c.stream_buffer_batches},
                                {"model_cache_size", c.model_cache_size},
                                {"model_cache_bytes", c.model_cache_bytes},
                                {"max_request_memory", c.max_request_memory},
                                {"max_request_steps", c.max_request_steps},
                                {"job_kept_bytes", c.job_kept_bytes},
                                {"job_spill_bytes", c.job_spill_bytes},
                                {"job_spill_total_bytes", c.job_spill_total_bytes},
                                {"max_kept_jobs", c.max_kept_jobs},
                                {"compile_threads", c.compile_threads},
                                {"compile_queue", c.compile_queue},
                                {"tenant_compile_queue", c.tenant_compile_queue},
                                {"max_identifier_length", c.model_limits.max_identifier_length},
                                {"max_raw_kernel_bytes", c.max_raw_kernel_bytes}}) {
    if (absl::Status s = positive(name, v); !s.ok()) return s;
  }
  if (c.log_format != "kv" && c.log_format != "json") {
    return absl::InvalidArgumentError("--log_format: must be kv or json");
  }
  if (c.max_connection_age < absl::ZeroDuration() ||
      c.max_connection_age_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max_connection_age(_grace): must be >= 0");
  }
  if (c.batch_slice < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--batch_slice: must be >= 0");
  }
  for (const auto& [name, v] : {std::pair<const char*, int64_t>{"memory_budget", c.memory_budget},
                                {"tenant_max_memory", c.tenant_max_memory},
                                {"tenant_max_jobs", c.tenant_max_jobs},
                                {"tenant_max_trajectories", c.tenant_max_trajectories},
                                {"tenant_max_steps", c.tenant_max_steps}}) {
    if (v < 0) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": must be >= 0, got ", v));
    }
  }
  if (c.job_ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--job_ttl: must be >= 0");
  }
  if (c.max_job_time < absl::ZeroDuration() || c.stream_unread_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max_job_time, --stream_unread_timeout: must be >= 0");
  }
  if (c.drain_deadline < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--drain_deadline: must be >= 0");
  }
  return c;
}

}  // namespace ensolve::server
