#include <doctest/doctest.h>

#include <unistd.h>
#include <cstdio>
#include <fstream>

#include "operator/base/base64.h"
#include "operator/kube/config.h"

using namespace portico;
using namespace portico::kube;

namespace {

const char* kKubeconfig = R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: Q0EtUEVN
- name: c2
  cluster:
    server: https://10.1.2.3:443
    insecure-skip-tls-verify: true
users:
- name: token-user
  user:
    token: abc123
- name: cert-user
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
contexts:
- name: dev
  context: {cluster: c1, user: token-user, namespace: team-a}
- name: ops
  context: {cluster: c2, user: cert-user}
)";

std::string tempDir() {
  char tmpl[] = "/tmp/portico-kubeconfig-XXXXXX";
  return mkdtemp(tmpl);
}

}  // namespace

TEST_CASE("kubeconfig: current context with CA data and a token") {
  auto config = parseKubeconfig(kKubeconfig, "/nowhere");
  REQUIRE(config);
  CHECK(config->server == "https://127.0.0.1:6443");  // trailing slash dropped
  CHECK(config->tls.ca_pem == "CA-PEM");
  CHECK_FALSE(config->tls.insecure_skip_verify);
  REQUIRE(config->token);
  CHECK(config->token->token() == "abc123");
  CHECK(config->default_namespace == "team-a");
  CHECK(config->context_name == "dev");
}

TEST_CASE("kubeconfig: a named context with client certificate data and insecure TLS") {
  auto config = parseKubeconfig(kKubeconfig, "/nowhere", "ops");
  REQUIRE(config);
  CHECK(config->server == "https://10.1.2.3:443");
  CHECK(config->tls.insecure_skip_verify);
  CHECK(config->tls.client_cert_pem == "CERT");
  CHECK(config->tls.client_key_pem == "KEY");
  CHECK_FALSE(config->token);
  CHECK(config->default_namespace == "default");
}

TEST_CASE("kubeconfig: file references resolve against the kubeconfig's directory") {
  std::string dir = tempDir();
  std::ofstream(dir + "/ca.crt") << "FILE-CA";
  std::ofstream(dir + "/client.crt") << "FILE-CERT";
  std::ofstream(dir + "/client.key") << "FILE-KEY";
  std::ofstream(dir + "/token") << "file-token\n";
  std::ofstream(dir + "/config") << R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://h:1", certificate-authority: ca.crt}}]
users: [{name: u, user: {client-certificate: client.crt, client-key: client.key, tokenFile: token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)";
  auto config = loadKubeconfig(dir + "/config");
  REQUIRE(config);
  CHECK(config->tls.ca_pem == "FILE-CA");
  CHECK(config->tls.client_cert_pem == "FILE-CERT");
  CHECK(config->tls.client_key_pem == "FILE-KEY");
  REQUIRE(config->token);
  CHECK(config->token->token() == "file-token");
}

TEST_CASE("kubeconfig: mistakes are named in the error") {
  struct Row {
    const char* name;
    const char* yaml;
    const char* context;
    const char* expected;
  };
  const Row rows[] = {
      {"not yaml", "{{{", "", "not YAML"},
      {"no current context", "clusters: []", "", "no current-context"},
      {"unknown context", kKubeconfig, "nope", "no context named \"nope\""},
      {"unknown cluster",
       "current-context: a\ncontexts: [{name: a, context: {cluster: zz, user: u}}]", "",
       "no cluster named \"zz\""},
      {"bad base64",
       "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, "
       "cluster: {server: 'https://x', certificate-authority-data: '!!'}}]",
       "", "not valid base64"},
      {"missing file",
       "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, "
       "cluster: {server: 'https://x', certificate-authority: /no/such/file}}]",
       "", "cannot read /no/such/file"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      auto config = parseKubeconfig(row.yaml, "/nowhere", row.context);
      REQUIRE_FALSE(config);
      CAPTURE(config.error().message());
      CHECK(config.error().code() == ErrorCode::InvalidArgument);
      CHECK(config.error().message().find(row.expected) != std::string::npos);
    }
  }
}

TEST_CASE("in-cluster config: service host, CA, namespace, and a token re-read when it rotates") {
  std::string dir = tempDir();
  std::ofstream(dir + "/ca.crt") << "SA-CA";
  std::ofstream(dir + "/token") << "token-1";
  std::ofstream(dir + "/namespace") << "portico-system\n";
  auto config = inClusterConfig(
      {{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "443"}}, dir);
  REQUIRE(config);
  CHECK(config->server == "https://[fd00::1]:443");
  CHECK(config->tls.ca_pem == "SA-CA");
  CHECK(config->default_namespace == "portico-system");
  CHECK(config->token->token() == "token-1");

  auto rotating = TokenSource::fromFile(dir + "/token", std::chrono::seconds(0));
  CHECK(rotating->token() == "token-1");
  std::ofstream(dir + "/token") << "token-2";
  CHECK(rotating->token() == "token-2");
  std::remove((dir + "/token").c_str());
  CHECK(rotating->token() == "token-2");  // a failed read keeps the last good token

  auto outside = inClusterConfig({}, dir);
  REQUIRE_FALSE(outside);
  CHECK(outside.error().code() == ErrorCode::NotFound);
}
