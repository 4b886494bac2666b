#include "tests/support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "engine/backend.h"
#include "engine/model/model.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace ensolve::testing {

server::ServerConfig TestConfig() {
  server::ServerConfig c;
  c.address = "127.0.0.1:0";
  c.metrics_host = "127.0.0.1";
  c.metrics_port = 0;
  c.devices = "cpu";
  c.threads = 2;
  return c;
}

TestServer StartServer(const server::ServerConfig& config) {
  TestServer t;
  absl::StatusOr<std::unique_ptr<server::EnsolveServer>> s = server::EnsolveServer::Start(config);
  if (!s.ok()) {
    std::fprintf(stderr, "cannot start ensolved: %s\n", s.status().ToString().c_str());
    std::abort();
  }
  t.server = std::move(*s);
  t.client = Client::Connect(t.server->target());
  return t;
}

v1::SolveRequest LorenzRequest(int64_t n, double t1, uint64_t seed) {
  v1::SolveRequest req;
  req.set_model_source(kLorenz);
  req.set_trajectories(n);
  req.mutable_options()->set_t1(t1);
  v1::Sampler* s = req.mutable_params()->mutable_sampler();
  s->set_seed(seed);
  for (double hi : {10.0, 28.0, 8.0 / 3}) {
    s->mutable_uniform()->add_lo(0);
    s->mutable_uniform()->add_hi(hi);
  }
  return req;
}

std::unique_ptr<v1::EnsembleSolver::Stub> RawStub(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return v1::EnsembleSolver::NewStub(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
}

void Authorize(grpc::ClientContext* ctx, const std::string& token) {
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
}

grpc::Status SolveAs(const std::string& target, const std::string& token,
                     const v1::SolveRequest& req, absl::Notification* accepted) {
  auto stub = RawStub(target);
  grpc::ClientContext ctx;
  Authorize(&ctx, token);
  auto reader = stub->Solve(&ctx, req);
  v1::SolveResponse r;
  while (reader->Read(&r)) {
    if (r.has_accepted() && accepted != nullptr) accepted->Notify();
  }
  return reader->Finish();
}

std::string SlowModel(int seed, size_t bytes) {
  constexpr int kStates = 200, kParams = 50;
  std::string s = "state ";
  for (int i = 0; i < kStates; ++i) absl::StrAppend(&s, i ? ", " : "", "x", i, " = 0.", i % 7);
  s += "\nparam ";
  for (int i = 0; i < kParams; ++i) absl::StrAppend(&s, i ? ", " : "", "p", i, " = ", 1 + i);
  s += "\n";
  uint32_t r = static_cast<uint32_t>(seed) * 2654435761u + 1;
  auto next = [&](int m) {
    r = r * 1103515245u + 12345u;
    return static_cast<int>((r >> 8) % static_cast<uint32_t>(m));
  };
  std::vector<std::string> lines(kStates);
  size_t size = s.size();
  for (int i = 0; i < kStates; ++i) {
    lines[i] = absl::StrCat("x", i, "' = -x", i);
    size += lines[i].size() + 1;
  }
  for (int i = 0; size + 64 < bytes; ++i) {
    const std::string term = absl::StrCat(" + sin(x", next(kStates), "*x", next(kStates), " + p",
                                          next(kParams), ")*", next(9) + 1);
    lines[i % kStates] += term;
    size += term.size();
  }
  for (const std::string& l : lines) absl::StrAppend(&s, l, "\n");
  return s;
}

std::string WideModel(int params) {
  std::string s = "state x = 1\nparam ";
  for (int i = 0; i < params; ++i) absl::StrAppend(&s, i ? ", " : "", "p", i, " = 0.5");
  return absl::StrCat(s, "\nx' = -p0*x\n");
}

v1::SolveRequest WideRequest() {
  v1::SolveRequest req;
  req.set_model_source(WideModel(1024));
  req.set_trajectories(400000);
  req.set_batch_size(400000);
  req.mutable_options()->set_t1(1);
  v1::Sampler* s = req.mutable_params()->mutable_sampler();
  for (int i = 0; i < 1024; ++i) {
    s->mutable_uniform()->add_lo(0);
    s->mutable_uniform()->add_hi(1);
  }
  return req;
}

absl::StatusOr<BatchResult> SolveInProcess(const std::string& model_source,
                                           const SolveOptions& options, int64_t count,
                                           const std::vector<double>& u0, int64_t u0_rows,
                                           const std::vector<double>& p, int64_t p_rows) {
  absl::StatusOr<std::unique_ptr<Model>> model = Model::Parse(model_source);
  if (!model.ok()) return model.status();
  std::unique_ptr<Backend> backend = NewCpuBackend(2);
  auto prepared = backend->Prepare(**model, options);
  if (!prepared.ok()) return prepared.status();
  BatchInputs in;
  in.count = count;
  in.u0 = u0.empty() ? nullptr : u0.data();
  in.u0_rows = u0_rows;
  in.p = p.empty() ? nullptr : p.data();
  in.p_rows = p_rows;
  return backend->Solve(**prepared, options, in);
}

absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("connect to port ", port, " failed"));
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return absl::UnavailableError("write failed");
  }
  std::string response;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) return absl::DataLossError("no HTTP header end");
  if (!absl::StartsWith(response, "HTTP/1.1 200") && !absl::StartsWith(response, "HTTP/1.0 200")) {
    return absl::UnavailableError(response.substr(0, response.find("\r\n")));
  }
  return response.substr(body + 4);
}

double MetricValue(const std::string& text, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t name_end = line.find_first_of("{ ");
    if (name_end == absl::string_view::npos || line.substr(0, name_end) != name) continue;
    absl::string_view label_text;
    if (line[name_end] == '{') {
      const size_t close = line.find('}', name_end);
      label_text = line.substr(name_end + 1, close - name_end - 1);
    }
    bool match = true;
    for (const auto& [k, v] : labels) {
      if (!absl::StrContains(label_text, absl::StrCat(k, "=\"", v, "\""))) match = false;
    }
    if (!match) continue;
    double value = 0;
    const size_t space = line.rfind(' ');
    if (absl::SimpleAtod(line.substr(space + 1), &value)) sum += value;
  }
  return sum;
}

absl::StatusOr<std::string> HealthCheck(const std::string& target, const std::string& service) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
}

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(const std::vector<std::string>& argv,
                                                              const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return absl::UnavailableError("fork failed");
  if (pid == 0) {
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) ::dup2(fd, 2);
    // The test runner may block signals; the child must see SIGTERM.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  auto p = std::make_unique<Subprocess>();
  p->pid_ = pid;
  return p;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void Subprocess::Signal(int sig) { ::kill(pid_, sig); }

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  while (absl::Now() < until) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("the child did not exit in time");
}

absl::StatusOr<int> ReadPortFile(const std::string& path, absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  while (absl::Now() < until) {
    std::ifstream in(path);
    int port = 0;
    if (in >> port && port > 0) return port;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(path, ": no port written"));
}

std::string TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string templ = absl::StrCat(base != nullptr ? base : "/tmp", "/ensolve_test_XXXXXX");
  char* dir = ::mkdtemp(templ.data());
  return dir != nullptr ? std::string(dir) : "/tmp";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CommandResult RunCommand(const std::string& command, const std::string& dir) {
  const std::string out = dir + "/out.txt", err = dir + "/err.txt";
  const std::string cmd = absl::StrCat(command, " >", out, " 2>", err, " </dev/null");
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out), ReadFile(err)};
}

}  // namespace ensolve::testing
