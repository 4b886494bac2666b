// ensolved: the ensolve gRPC server. See server/flags.cc for the flags (ENSOLVE_* env
// variables override their defaults) and docs/api.md for the API.
//
// Signals: SIGTERM or SIGINT drains (health NOT_SERVING, admitted jobs finish within
// --drain_deadline) and exits 0; SIGHUP re-reads --tokens_file.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "server/flags.h"
#include "server/log.h"
#include "server/server.h"

namespace {

using ensolve::server::Log;
using ensolve::server::LogLevel;

// Writes atomically (temp file + rename) so a script polling for the file never reads a
// partial number.
bool WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.good()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "a gRPC service that solves ensembles of ODEs.\n"
      "  ensolved --address=127.0.0.1:0 --port_file=/tmp/ensolved.port\n"
      "Every --flag can also be set as the environment variable ENSOLVE_FLAG.\n"
      "Exit status: 0 after a drain; 1 it could not start (e.g. a port is taken); 2 bad usage.");
  if (ensolve::server::HandleHelp(argc, argv)) return 0;
  if (absl::Status s = ensolve::server::ApplyEnvironmentToFlags(); !s.ok()) {
    std::fprintf(stderr, "ensolved: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (absl::Status s = ensolve::server::CheckCommandLine(argc, argv); !s.ok()) {
    std::fprintf(stderr, "ensolved: %s\n(see ensolved --help)\n", std::string(s.message()).c_str());
    return 2;
  }
  for (const std::string& name : ensolve::server::UnknownEnvironmentVariables(environ)) {
    Log(LogLevel::kWarning, "unknown_environment_variable")
        .Kv("name", name)
        .Kv("note", "not an ensolved flag (ENSOLVE_<FLAG>, see --help); ignored");
  }
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<ensolve::server::ServerConfig> config = ensolve::server::ConfigFromFlags();
  if (!config.ok()) {
    std::fprintf(stderr, "ensolved: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  ensolve::server::SetLogFormat(config->log_format == "json"
                                    ? ensolve::server::LogFormat::kJson
                                    : ensolve::server::LogFormat::kKeyValue);

  // Block the shutdown signals in every thread (threads inherit the mask), then wait for
  // them synchronously on this one.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<ensolve::server::EnsolveServer>> server =
      ensolve::server::EnsolveServer::Start(*config);
  if (!server.ok()) {
    Log(LogLevel::kError, "startup_failed").Kv("error", server.status().ToString());
    std::fprintf(stderr, "ensolved: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  if (!config->port_file.empty() && !WritePortFile(config->port_file, (*server)->port())) {
    Log(LogLevel::kError, "port_file_failed").Kv("path", config->port_file);
    return 1;
  }
  if (!config->metrics_port_file.empty() &&
      !WritePortFile(config->metrics_port_file, (*server)->metrics_port())) {
    Log(LogLevel::kError, "port_file_failed").Kv("path", config->metrics_port_file);
    return 1;
  }

  int sig = 0;
  for (;;) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    (void)(*server)->ReloadTokens();
  }
  Log(LogLevel::kInfo, "signal").Kv("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Drain(config->drain_deadline);
  server->reset();
  return 0;
}
