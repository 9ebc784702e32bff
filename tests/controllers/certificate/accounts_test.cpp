// AcmeAccounts hands out clients that stay valid while a config edit replaces them (issue 12:
// a raw pointer into the map slot was freed under a running order). Run under ASan in CI.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "controllers/certificate/accounts.h"
#include "tests/fakes/fake_kube_client.h"
#include "tests/fakes/fake_transport.h"

using namespace portico;
using namespace portico::controllers::certificate;

namespace {

constexpr auto reply = &testing::httpReply;

// A minimal RFC 8555 server: directory, nonces, accounts and orders, every answer valid.
Expected<HttpResponse> fakeCa(const HttpRequest& request) {
  static std::atomic<long> nonce{0};
  std::vector<HttpHeader> headers = {{"Replay-Nonce", "n" + std::to_string(++nonce)}};
  if (request.url == "https://ca/dir")
    return reply(200, R"({"newNonce":"https://ca/nonce","newAccount":"https://ca/acct",
                         "newOrder":"https://ca/order"})",
                 {});
  if (request.url == "https://ca/nonce") return reply(200, "", headers);
  if (request.url == "https://ca/acct") {
    headers.push_back({"Location", "https://ca/acct/1"});
    return reply(201, R"({"status":"valid"})", headers);
  }
  if (request.url == "https://ca/order") {
    headers.push_back({"Location", "https://ca/order/1"});
    return reply(201, R"({"status":"pending","identifiers":[{"type":"dns","value":"a.test"}],
                         "authorizations":["https://ca/authz/1"],"finalize":"https://ca/fin/1"})",
                 headers);
  }
  return reply(404, "", headers);
}

crds::IngressClassConfig configWithEmail(const std::string& email) {
  crds::IngressClassConfig config;
  config.metadata.name = "portico";
  crds::AcmeSettings acme;
  acme.server = "https://ca/dir";
  acme.email = email;
  config.spec.acme = acme;
  return config;
}

}  // namespace

TEST_CASE("accounts: editing the class's ACME settings while orders run frees no client in use") {
  testing::FakeKubeClient api;
  std::atomic<int> transports{0};
  AcmeAccounts accounts(
      api,
      [&](const TlsSettings&) -> std::unique_ptr<HttpTransport> {
        ++transports;
        auto transport = std::make_unique<testing::FakeTransport>();
        transport->setFallback(fakeCa);
        return transport;
      },
      "portico");
  std::mutex config_mutex;
  crds::IngressClassConfig current = configWithEmail("a@example.com");
  auto currentConfig = [&] {
    std::lock_guard lock(config_mutex);
    return current;
  };
  REQUIRE(accounts.clientFor(currentConfig()));

  std::atomic<bool> done{false};
  std::atomic<int> orders{0}, failures{0};
  auto worker = [&] {
    while (!done) {
      auto client = accounts.clientFor(currentConfig());
      if (!client) {
        ++failures;
        continue;
      }
      std::this_thread::yield();  // let the editor replace it meanwhile
      auto order = (*client)->newOrder({"a.test"});
      order ? ++orders : ++failures;
    }
  };
  std::thread a(worker), b(worker);
  for (int edit = 0; edit < 60; ++edit) {
    {
      std::lock_guard lock(config_mutex);
      current = configWithEmail(edit % 2 ? "a@example.com" : "b@example.com");
    }
    REQUIRE(accounts.clientFor(currentConfig()));
  }
  done = true;
  a.join();
  b.join();
  CHECK(failures == 0);
  CHECK(orders > 0);
  CHECK(transports >= 60);  // every edit made a new client (with its own transport)
  MESSAGE("orders placed while the settings changed 60 times: ", orders.load());
}

TEST_CASE("accounts: an account the CA no longer knows is registered again") {
  testing::FakeKubeClient api;
  std::atomic<bool> forgotten{false};  // the CA restarted without its state
  std::atomic<int> registrations{0};
  auto ca = [&](const HttpRequest& request) -> Expected<HttpResponse> {
    if (request.url == "https://ca/acct") {
      ++registrations;
      forgotten = false;
    }
    if (request.url == "https://ca/order" && forgotten)
      return reply(400,
                   R"({"type":"urn:ietf:params:acme:error:accountDoesNotExist",
                       "detail":"unable to find account"})",
                   {{"Replay-Nonce", "fresh"}, {"Content-Type", "application/problem+json"}});
    return fakeCa(request);
  };
  AcmeAccounts accounts(
      api,
      [&](const TlsSettings&) -> std::unique_ptr<HttpTransport> {
        auto transport = std::make_unique<testing::FakeTransport>();
        transport->setFallback(ca);
        return transport;
      },
      "portico");
  const auto config = configWithEmail("a@example.com");
  auto first = accounts.clientFor(config);
  REQUIRE(first);
  CHECK(registrations == 1);
  REQUIRE((*first)->newOrder({"a.test"}));
  auto same = accounts.clientFor(config);
  REQUIRE(same);
  CHECK(same->get() == first->get());  // reused while the CA knows the account
  CHECK(registrations == 1);

  forgotten = true;
  auto refused = (*first)->newOrder({"a.test"});
  REQUIRE_FALSE(refused);
  CHECK((*first)->accountLost());
  auto again = accounts.clientFor(config);
  REQUIRE(again);
  CHECK(registrations == 2);  // the same key, registered anew
  CHECK((*again)->newOrder({"a.test"}));
  CHECK_FALSE((*again)->accountLost());
}
