// Identity (issue 11, item 1): TLS and mutual TLS on a real ensolved with certificates made
// by openssl for this test, the loopback default of a server that authenticates nobody,
// and job ids that say nothing about other jobs.
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/credentials.h"
#include "client/health.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support.h"

namespace ensolve::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A CA, a server certificate for 127.0.0.1 and localhost, a client certificate, and a
// second CA that signed nothing here.
struct Pki {
  std::string dir;
  std::string path(const std::string& name) const { return dir + "/" + name; }
};

Pki MakePki() {
  Pki p{TempDir()};
  const std::string script = absl::StrCat(
      "set -e; cd '", p.dir, "'; exec 2>openssl.log\n",
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
      "-subj /CN=ensolve-test-ca\n",
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 "
      "-subj /CN=other-ca\n",
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext\n",
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=ensolved\n",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
      "-days 2 -extfile san.ext\n",
      "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=alice\n",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem "
      "-days 2\n");
  const CommandResult r = RunCommand(script, p.dir);
  EXPECT_EQ(r.code, 0) << ReadFile(p.path("openssl.log"));
  return p;
}

TlsOptions Tls(const Pki& p, const std::string& ca, bool with_cert) {
  absl::StatusOr<TlsOptions> t = TlsFromFiles(p.path(ca), with_cert ? p.path("client.pem") : "",
                                              with_cert ? p.path("client.key") : "");
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

absl::StatusCode SolveCode(const std::string& target, const TlsOptions& tls) {
  Client::Options o;
  o.tls = tls;
  auto client = Client::Connect(target, o);
  CallOptions call;
  call.timeout = absl::Seconds(10);
  absl::StatusOr<SolveResult> r = client->Solve(LorenzRequest(20, 1), call);
  return r.status().code();
}

TEST(Identity, TlsServesTlsClientsOnly) {
  const Pki pki = MakePki();
  server::ServerConfig c = TestConfig();
  c.tls_cert_file = pki.path("server.pem");
  c.tls_key_file = pki.path("server.key");
  TestServer t = StartServer(c);
  const std::string target = t.server->target();
  EXPECT_EQ(SolveCode(target, Tls(pki, "ca.pem", false)), absl::StatusCode::kOk);
  // Plaintext to a TLS port, and TLS that trusts another CA: no connection.
  EXPECT_EQ(SolveCode(target, TlsOptions{}), absl::StatusCode::kUnavailable);
  EXPECT_EQ(SolveCode(target, Tls(pki, "other-ca.pem", false)), absl::StatusCode::kUnavailable);
  // The health check speaks TLS too (as `ensolve --tls_ca=... health` does).
  EXPECT_EQ(CheckHealth(target, "", absl::Seconds(5), Tls(pki, "ca.pem", false)).value_or(""),
            "SERVING");
}

TEST(Identity, MutualTlsRequiresAClientCertificateOfItsCa) {
  const Pki pki = MakePki();
  server::ServerConfig c = TestConfig();
  c.tls_cert_file = pki.path("server.pem");
  c.tls_key_file = pki.path("server.key");
  c.tls_client_ca_file = pki.path("ca.pem");
  TestServer t = StartServer(c);
  const std::string target = t.server->target();
  EXPECT_EQ(SolveCode(target, Tls(pki, "ca.pem", true)), absl::StatusCode::kOk);
  EXPECT_EQ(SolveCode(target, Tls(pki, "ca.pem", false)), absl::StatusCode::kUnavailable);
}

TEST(Identity, BadTlsFilesAreNamed) {
  server::ServerConfig c = TestConfig();
  c.tls_cert_file = "/nonexistent/server.pem";
  c.tls_key_file = "/nonexistent/server.key";
  absl::StatusOr<std::unique_ptr<server::EnsolveServer>> s = server::EnsolveServer::Start(c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.status().message(), "--tls_cert: cannot read /nonexistent/server.pem");

  EXPECT_EQ(TlsFromFiles("", "cert.pem", "").status().message(),
            "a client certificate needs its key and a key its certificate (give both or "
            "neither)");
  EXPECT_EQ(TlsFromFiles("/nonexistent/ca.pem", "", "").status().message(),
            "cannot read the CA certificate file /nonexistent/ca.pem");

  const CommandResult half = RunCommand(
      absl::StrCat(ENSOLVED_PATH, " --tls_cert=/x.pem --devices=cpu --metrics_port=-1"), TempDir());
  EXPECT_NE(half.code, 0);
  EXPECT_THAT(half.err, HasSubstr("--tls_cert and --tls_key: give both or neither"));
  const CommandResult ca_alone = RunCommand(
      absl::StrCat(ENSOLVED_PATH, " --tls_client_ca=/x.pem --devices=cpu --metrics_port=-1"),
      TempDir());
  EXPECT_NE(ca_alone.code, 0);
  EXPECT_THAT(ca_alone.err, HasSubstr("--tls_client_ca needs --tls_cert and --tls_key"));
}

// ensolved without --address: where it listens, and what it says about it.
std::string StartupLog(const std::vector<std::string>& extra) {
  const std::string dir = TempDir();
  std::vector<std::string> argv = {ENSOLVED_PATH,   "--port=0",    "--metrics_port=-1",
                                   "--devices=cpu", "--threads=1", "--port_file=" + dir + "/port"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto p = Subprocess::Start(argv, dir + "/log");
  EXPECT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(ReadPortFile(dir + "/port", absl::Seconds(20)).ok());
  return ReadFile(dir + "/log");
}

TEST(Identity, WithoutAuthenticationTheDefaultIsLoopback) {
  const std::string open = StartupLog({});
  EXPECT_THAT(open, HasSubstr("event=listening address=127.0.0.1:0 "));
  EXPECT_THAT(open, HasSubstr("event=loopback_only"));
  EXPECT_THAT(open, HasSubstr("authentication=none tls=off"));

  const std::string tokens = TempDir() + "/tokens";
  RunCommand("printf 't alice\\n' > " + tokens, TempDir());
  const std::string authed = StartupLog({"--tokens_file=" + tokens});
  EXPECT_THAT(authed, HasSubstr("event=listening address=0.0.0.0:0 "));
  EXPECT_THAT(authed, Not(HasSubstr("loopback_only")));
  EXPECT_THAT(authed, Not(HasSubstr("unauthenticated_listener")));

  // Told to listen everywhere without authentication: it does, and warns.
  const std::string warned = StartupLog({"--address=0.0.0.0:0"});
  EXPECT_THAT(warned, HasSubstr("level=warning event=unauthenticated_listener"));
}

TEST(Identity, JobIdsAreRandom128BitHex) {
  TestServer t = StartServer();
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<SolveResult> r = t.client->Solve(LorenzRequest(2, 0.1));
    ASSERT_TRUE(r.ok()) << r.status();
    const std::string& id = r->accepted.job_id();
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}"))) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 5u);
}

// The model cache says nothing across tenants: bob's first CompileModel of alice's text is
// not `cached`, and a solve by alice's model id is NOT_FOUND for bob until he sends the
// text himself (the id is a content hash; knowing it must not be enough).
TEST(Identity, ModelsAreNotVisibleAcrossTenants) {
  server::ServerConfig c = TestConfig();
  c.tokens_file = TempDir() + "/tokens";
  std::ofstream(c.tokens_file) << "token-a alice\ntoken-b bob\n";
  TestServer t = StartServer(c);
  auto stub = RawStub(t.server->target());
  const std::string src = "state x = 1\nparam k = 1\nx' = -k*x\n";
  auto compile = [&](const std::string& token) {
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    v1::CompileModelRequest req;
    req.set_model_source(src);
    v1::CompileModelResponse resp;
    const grpc::Status s = stub->CompileModel(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  };
  const v1::CompileModelResponse a1 = compile("token-a"), a2 = compile("token-a");
  EXPECT_FALSE(a1.cached());
  EXPECT_TRUE(a2.cached());
  v1::SolveRequest by_id = LorenzRequest(2, 0.1);
  by_id.set_model_id(a1.model_id());
  by_id.clear_params();
  EXPECT_TRUE(SolveAs(t.server->target(), "token-a", by_id).ok());
  const grpc::Status hidden = SolveAs(t.server->target(), "token-b", by_id);
  EXPECT_EQ(hidden.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(hidden.error_message(), HasSubstr("is not in the server's model cache"));
  const v1::CompileModelResponse b1 = compile("token-b");
  EXPECT_FALSE(b1.cached());
  EXPECT_EQ(b1.model_id(), a1.model_id());
  EXPECT_TRUE(SolveAs(t.server->target(), "token-b", by_id).ok());
}

}  // namespace
}  // namespace ensolve::testing
