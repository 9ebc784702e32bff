// The ACME client against a real RFC 8555 server (pebble), with HTTP-01 answered by the real
// proxy (`portico proxy` following a snapshot that carries the key authorizations) on the port
// pebble validates. Run by tests/pebble/with-pebble.sh.
#include <doctest/doctest.h>

#include <openssl/x509_vfy.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "acme/client.h"
#include "acme/csr.h"
#include "acme/http01.h"
#include "operator/base/pem.h"
#include "operator/http/cpprest_transport.h"
#include "operator/proxy/snapshot_writer.h"
#include "tests/fakes/eventually.h"

using namespace portico;
using namespace portico::acme;
using namespace std::chrono_literals;

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  if (!value) {
    MESSAGE("missing ", name, ": run under tests/pebble/with-pebble.sh");
    std::abort();
  }
  return value;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `portico proxy` on the HTTP-01 port, following `snapshot`; killed at the end of the test.
struct Proxy {
  pid_t pid = -1;
  Proxy(const std::string& snapshot, const std::string& port) {
    pid = fork();
    if (pid == 0) {
      execl(env("PORTICO_BIN").c_str(), "portico", "--log-level", "warn", "proxy", "--snapshot",
            snapshot.c_str(), "--http-address", "127.0.0.1", "--http-port", port.c_str(),
            "--https-port", "-2", "--workers", "1", static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Proxy() {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
};

struct Fixture {
  std::unique_ptr<HttpTransport> transport;
  std::string snapshot = "/tmp/portico-acme-it-" + std::to_string(getpid()) + ".snap";
  std::unique_ptr<proxy::SnapshotWriter> writer;
  std::unique_ptr<Proxy> proxy;
  proxy::Listeners listeners;

  Fixture() {
    TlsSettings tls;
    tls.ca_pem = readFile(env("PEBBLE_CA"));
    transport = http::makeCpprestTransport(tls);
    writer = std::move(*proxy::SnapshotWriter::create(snapshot));
    listeners.address = "127.0.0.1";
    listeners.http_port = static_cast<uint16_t>(std::stoi(env("PORTICO_HTTP01_PORT")));
    publish({});
    proxy = std::make_unique<Proxy>(snapshot, env("PORTICO_HTTP01_PORT"));
  }
  ~Fixture() { ::unlink(snapshot.c_str()); }

  void publish(std::map<std::string, std::string> tokens) {
    REQUIRE(writer->publish(proxy::RouteTable({}, {}, -1, {}, -1, std::move(tokens), listeners)));
  }

  // What the proxy answers for a token (over plain HTTP, as the CA asks).
  std::string served(const std::string& token) {
    HttpRequest request;
    request.url = "http://127.0.0.1:" + env("PORTICO_HTTP01_PORT") + kChallengePathPrefix + token;
    request.timeout = 2s;
    auto response = transport->send(request);
    return response && response->status == 200 ? response->body : "";
  }
};

// Polls until `done` holds for the order, honouring Retry-After (bounded).
Expected<Order> pollOrder(AcmeClient& client, const std::string& url,
                          const std::function<bool(const Order&)>& done) {
  for (int i = 0; i < 300; ++i) {
    auto order = client.order(url);
    if (!order) return order;
    if (done(*order) || order->status == "invalid") return order;
    auto wait = client.lastRetryAfter().value_or(std::chrono::seconds(0));
    std::this_thread::sleep_for(
        std::max<std::chrono::milliseconds>(100ms, std::min<std::chrono::milliseconds>(wait, 2s)));
  }
  return Status(ErrorCode::Timeout, "order did not settle");
}

bool chainVerifies(const std::string& chain_pem, const std::string& root_pem) {
  auto chain = parseCertificateChain(chain_pem);
  auto roots = parseCertificateChain(root_pem);
  if (!chain || !roots) return false;
  X509_STORE* store = X509_STORE_new();
  for (auto& root : *roots) X509_STORE_add_cert(store, root.get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 1; i < chain->size(); ++i) sk_X509_push(untrusted, (*chain)[i].get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, (*chain)[0].get(), untrusted);
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);
  X509_STORE_free(store);
  return ok;
}

}  // namespace

TEST_CASE(
    "acme against pebble: account once, order, HTTP-01 answered by the proxy, a chain that "
    "verifies") {
  Fixture f;
  auto key = generateAccountKey();
  REQUIRE(key);
  const std::string key_pem = privateKeyPem(key->key.get());
  AcmeClient client(*f.transport, env("PEBBLE_DIRECTORY"), std::move(*key));
  NewAccountRequest account_request;
  account_request.email = "admin@portico.test";
  auto account = client.account(account_request);
  REQUIRE_MESSAGE(account, account.error().toString());
  CHECK(account->status == "valid");

  // The same key again (a restarted operator): the CA returns the existing account.
  AcmeClient again(*f.transport, env("PEBBLE_DIRECTORY"), std::move(*accountKeyFromPem(key_pem)));
  auto existing = again.account(account_request);
  REQUIRE(existing);
  CHECK(existing->url == account->url);

  const std::vector<std::string> names = {"app.test", "www.app.test"};
  auto order = client.newOrder(names);
  REQUIRE_MESSAGE(order, order.error().toString());
  CHECK(order->status == "pending");
  REQUIRE(order->authorizations.size() == 2);

  auto thumbprint = client.thumbprint();
  REQUIRE(thumbprint);
  std::map<std::string, std::string> tokens;
  std::vector<std::string> challenge_urls;
  for (const auto& url : order->authorizations) {
    auto authz = client.authorization(url);
    REQUIRE(authz);
    const Challenge* http01 = authz->challenge("http-01");
    REQUIRE(http01);
    REQUIRE(isValidToken(http01->token));
    tokens[http01->token] = keyAuthorization(http01->token, *thumbprint);
    challenge_urls.push_back(http01->url);
  }
  f.publish(tokens);
  for (const auto& [token, key_authorization] : tokens)
    REQUIRE(testing::eventually([&] { return f.served(token) == key_authorization; }, 5s));
  for (const auto& url : challenge_urls) {
    auto responded = client.respond(url);
    REQUIRE_MESSAGE(responded, responded.error().toString());
  }

  auto ready = pollOrder(client, order->url, [](const Order& o) { return o.status == "ready"; });
  REQUIRE_MESSAGE(ready, ready.error().toString());
  REQUIRE_MESSAGE(ready->status == "ready",
                  (ready->error ? ready->error->describe() : ready->status));

  auto cert_key = generateCertificateKey(CertificateKeyAlgorithm::ECDSA);
  REQUIRE(cert_key);
  auto csr = makeCsr(cert_key->get(), names);
  REQUIRE(csr);
  auto finalized = client.finalize(*ready, *csr);
  REQUIRE_MESSAGE(finalized, finalized.error().toString());
  auto valid = pollOrder(client, order->url, [](const Order& o) { return o.status == "valid"; });
  REQUIRE(valid);
  REQUIRE(valid->status == "valid");
  auto chain = client.certificate(valid->certificate);
  REQUIRE_MESSAGE(chain, chain.error().toString());

  auto pair =
      checkTlsPair(chain->pem, privateKeyPem(cert_key->get()), std::chrono::system_clock::now());
  REQUIRE_MESSAGE(pair, pair.error().toString());
  CHECK(pair->dns_names == std::vector<std::string>{"app.test", "www.app.test"});
  CHECK(chainVerifies(chain->pem, readFile(env("PEBBLE_STATE_DIR") + "/root.pem")));

  const char* reject = std::getenv("PEBBLE_WFE_NONCEREJECT");
  if (reject && std::string(reject) != "0") {
    MESSAGE("badNonce retries: ", client.badNonceRetries());
    CHECK(client.badNonceRetries() > 0);
  }
}

TEST_CASE(
    "acme against pebble: a validation that cannot succeed ends the order invalid, saying why") {
  Fixture f;
  AcmeClient client(*f.transport, env("PEBBLE_DIRECTORY"), std::move(*generateAccountKey()));
  REQUIRE(client.account({}));
  auto order = client.newOrder({"nobody-answers.test"});
  REQUIRE(order);
  auto authz = client.authorization(order->authorizations.at(0));
  REQUIRE(authz);
  const Challenge* http01 = authz->challenge("http-01");
  REQUIRE(http01);
  // The token is not published: the proxy answers 404 to the CA.
  auto responded = client.respond(http01->url);
  REQUIRE_MESSAGE(responded, responded.error().toString());
  auto settled =
      pollOrder(client, order->url, [](const Order& o) { return o.status != "pending"; });
  REQUIRE(settled);
  CHECK(settled->status == "invalid");
  auto failed = client.authorization(order->authorizations.at(0));
  REQUIRE(failed);
  CHECK(failed->status == "invalid");
  const Challenge* challenge = failed->challenge("http-01");
  REQUIRE(challenge);
  REQUIRE(challenge->error);
  MESSAGE("pebble says: ", challenge->error->describe());
  CHECK(challenge->error->describe().find("404") != std::string::npos);
}
