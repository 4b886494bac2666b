#include "server/flags.h"

#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, address, "0.0.0.0:50051", "gRPC listening address, host:port");
ABSL_FLAG(int, port, -1,
          "If >= 0, replaces the port of --address (0 picks a free port; see --port_file)");
ABSL_FLAG(std::string, port_file, "",
          "Write the bound gRPC port to this file once listening (for scripts)");
ABSL_FLAG(std::string, metrics_host, "0.0.0.0", "Host of the Prometheus /metrics listener");
ABSL_FLAG(int, metrics_port, 9464, "Port of the Prometheus /metrics listener (-1 off, 0 any)");
ABSL_FLAG(std::string, devices, "auto", "Devices to solve on: auto, cpu or gpu");
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
                                      "drain_deadline",
                                      "log_format",
                                      "metrics_port_file",
                                      "max_connection_age",
                                      "max_connection_age_grace"};

}  // namespace

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
  c.address = absl::GetFlag(FLAGS_address);
  if (const int port = absl::GetFlag(FLAGS_port); port >= 0) {
    const size_t colon = c.address.rfind(':');
    c.address = absl::StrCat(colon == std::string::npos ? c.address : c.address.substr(0, colon),
                             ":", port);
  }
  c.port_file = absl::GetFlag(FLAGS_port_file);
  c.metrics_host = absl::GetFlag(FLAGS_metrics_host);
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
  c.drain_deadline = absl::GetFlag(FLAGS_drain_deadline);
  c.log_format = absl::GetFlag(FLAGS_log_format);
  c.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  c.max_connection_age = absl::GetFlag(FLAGS_max_connection_age);
  c.max_connection_age_grace = absl::GetFlag(FLAGS_max_connection_age_grace);

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
                                {"model_cache_size", c.model_cache_size}}) {
    if (absl::Status s = positive(name, v); !s.ok()) return s;
  }
  if (c.log_format != "kv" && c.log_format != "json") {
    return absl::InvalidArgumentError("--log_format: must be kv or json");
  }
  if (c.max_connection_age < absl::ZeroDuration() ||
      c.max_connection_age_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max_connection_age(_grace): must be >= 0");
  }
  if (c.drain_deadline < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--drain_deadline: must be >= 0");
  }
  return c;
}

}  // namespace ensolve::server
