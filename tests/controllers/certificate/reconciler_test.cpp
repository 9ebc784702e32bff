// The Certificate controller one reconcile at a time: the in-memory API server, a scripted
// RFC 8555 CA behind the fake transport, a FakeClock and a real route publisher (the challenge
// tokens must be in a published snapshot before the CA may validate). Each row asserts the one
// step a reconcile takes: what the CA was asked, the status written, the Event, the requeue.
#include <doctest/doctest.h>

#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "controllers/certificate/policies.h"
#include "controllers/certificate/reconciler.h"
#include "tests/fakes/eventually.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_kube_client.h"
#include "tests/fakes/fake_transport.h"
#include "tests/fakes/scripted_ca.h"

using namespace portico;
using namespace portico::controllers;
using namespace portico::controllers::certificate;
using namespace std::chrono_literals;
using nlohmann::json;
using portico::testing::eventually;
using portico::testing::ScriptedCa;

namespace {

// The issuing path, one reconcile each: newOrder, challenges into status, tokens not yet
// published, respond (the tokens published before it), poll "ready" → finalize, poll "valid" →
// download. runSteps(n) replays the first n.
enum Step { kNewOrder = 1, kChallenges, kAwaitTokens, kRespond, kFinalize, kDownload };

// The controller on the in-memory API server, one Certificate "shop/web-tls" for a.test.
class Harness {
public:
  Harness() : events_(api, "portico", "test", clock) {
    api.setServedGroupVersions(
        {{"", "v1"}, {"networking.k8s.io", "v1"}, {"portico.io", "v1alpha1"}});
    crds::IngressClassConfig config;
    config.metadata.name = "portico";
    crds::AcmeSettings acme;
    acme.server = ScriptedCa::kDirectory;
    acme.email = "ops@example.test";
    config.spec.acme = acme;
    configs_.upsert({"", "portico"}, std::make_shared<const crds::IngressClassConfig>(config));

    // The published snapshot carries the tokens in the Certificate's status, as the control
    // plane's route build does.
    snapshot_ = "/tmp/portico-certificate-reconciler-" + std::to_string(getpid()) + "-" +
                std::to_string(++instances_);
    auto writer = proxy::SnapshotWriter::create(snapshot_);
    REQUIRE(writer);
    publisher_ = std::make_unique<routes::RoutePublisher>(
        [this] {
          routes::BuiltRoutes built;
          built.ready = true;
          std::map<std::string, std::string> tokens;
          if (auto cert = api.get(certificates(), kKey)) {
            auto decoded = cert->get<crds::Certificate>();
            if (decoded.status.order)
              for (const auto& c : decoded.status.order->challenges)
                tokens[c.token] = c.key_authorization;
          }
          built.compiled.table = proxy::RouteTable({}, {}, -1, {}, -1, tokens, {});
          return built;
        },
        std::move(*writer), routes::PublisherOptions{1ms, 5ms});
    publisher_thread_ = std::thread([this] { publisher_->run(stop_); });

    CertificateOptions options;
    options.transport_factory = [this](const TlsSettings&) -> std::unique_ptr<HttpTransport> {
      auto transport = std::make_unique<testing::FakeTransport>();
      transport->setFallback([this](const HttpRequest& request) { return ca.answer(request); });
      return transport;
    };
    options.served_config = [] { return std::string("portico"); };
    options.account_namespace = "portico-system";
    options.token_propagation = 0ms;  // the FakeClock does not move by itself
    reconciler_ = std::make_unique<CertificateReconciler>(api, configs_, *publisher_, events_,
                                                          std::move(options), clock);
    REQUIRE(api.create(
        certificates(),
        json{{"apiVersion", "portico.io/v1alpha1"},
             {"kind", "Certificate"},
             {"metadata",
              {{"name", kKey.name},
               {"namespace", kKey.namespace_},
               {"uid", "uid-web-tls"},
               {"generation", 1}}},
             {"spec", {{"secretName", "web-tls"}, {"dnsNames", json::array({"a.test"})}}}}));
  }
  ~Harness() {
    stop_.cancel();
    publisher_thread_.join();
    ::unlink(snapshot_.c_str());
  }

  Expected<runtime::Result> reconcile() { return reconciler_->reconcile({kKey}); }

  crds::Certificate certificate() {
    auto live = api.get(certificates(), kKey);
    REQUIRE(live);
    return live->get<crds::Certificate>();
  }
  std::string condition(const std::string& type) {
    auto cert = certificate();
    const auto* c = crds::findCondition(cert.status.conditions, type);
    return c ? c->status + "/" + c->reason : "";
  }
  // The reasons of the Events recorded so far, oldest first.
  std::vector<std::string> eventReasons() {
    auto list = api.list(kube::resources::events(), kKey.namespace_, kube::ListOptions{});
    REQUIRE(list);
    // Each Event is created once: the resourceVersions give the order they were recorded in.
    std::vector<std::pair<long long, std::string>> recorded;
    for (const auto& e : list->items)
      recorded.push_back({std::stoll(e["metadata"].value("resourceVersion", "0")),
                          e.value("type", "") + " " + e.value("reason", "")});
    std::sort(recorded.begin(), recorded.end());
    std::vector<std::string> out;
    for (const auto& [version, reason] : recorded) out.push_back(reason);
    return out;
  }
  std::string lastEvent() {
    auto reasons = eventReasons();
    return reasons.empty() ? "" : reasons.back();
  }
  // Waits until the published snapshot carries the order's tokens.
  void publishTokens() {
    publisher_->trigger();
    auto cert = certificate();
    REQUIRE(cert.status.order);
    REQUIRE(eventually([&] {
      auto current = publisher_->current();
      if (!current) return false;
      for (const auto& c : cert.status.order->challenges)
        if (!current->built.compiled.table.acmeKeyAuthorization(c.token)) return false;
      return true;
    }));
  }
  bool secretExists(const std::string& name) {
    return static_cast<bool>(api.get(kube::resources::secrets(), {kKey.namespace_, name}));
  }
  // Runs the first `steps` reconciles of the issuing path (see Step).
  void runSteps(int steps) {
    for (int i = 0; i < steps; ++i) {
      if (i + 1 == kRespond) publishTokens();
      REQUIRE(reconcile());
    }
  }

  static inline const ObjectKey kKey{"shop", "web-tls"};
  testing::FakeClock clock;
  testing::FakeKubeClient api;
  ScriptedCa ca{clock};

private:
  static inline int instances_ = 0;
  runtime::Store<crds::IngressClassConfig> configs_;
  EventRecorder events_;
  std::string snapshot_;
  std::unique_ptr<routes::RoutePublisher> publisher_;
  CancelSource stop_;
  std::thread publisher_thread_;
  std::unique_ptr<CertificateReconciler> reconciler_;
};

}  // namespace

TEST_CASE("certificate reconciler: one ACME step per reconcile, status and an Event each") {
  Harness h;

  // 1. No Secret: the account is registered and an order placed (Issuing=True).
  auto result = h.reconcile();
  REQUIRE(result);
  CHECK(h.ca.count("newAccount") == 1);
  CHECK(h.ca.count("newOrder") == 1);
  CHECK_FALSE(h.secretExists("portico-acme-portico"));  // lives in the account namespace
  CHECK(h.api.get(kube::resources::secrets(), {"portico-system", "portico-acme-portico"}));
  auto cert = h.certificate();
  REQUIRE(cert.status.order);
  CHECK(cert.status.order->url == "https://ca.test/orders/1");
  CHECK(cert.status.order->dns_names == std::vector<std::string>{"a.test"});
  CHECK(h.condition("Issuing").rfind("True/", 0) == 0);
  CHECK(h.lastEvent().rfind("Normal ", 0) == 0);
  CHECK(result->requeue_after == 10ms);

  // 2. The authorizations' http-01 challenges go into status.
  result = h.reconcile();
  REQUIRE(result);
  CHECK(h.ca.count("authz") == 1);
  cert = h.certificate();
  REQUIRE(cert.status.order->challenges.size() == 1);
  CHECK(cert.status.order->challenges[0].dns_name == "a.test");
  CHECK(cert.status.order->challenges[0].key_authorization.rfind(
            cert.status.order->challenges[0].token + ".", 0) == 0);
  CHECK(h.lastEvent() == "Normal Presenting");
  CHECK(result->requeue_after == 10ms);

  // 3. Until the token is in the published snapshot, the CA is not asked.
  result = h.reconcile();
  REQUIRE(result);
  CHECK(h.ca.count("challenge") == 0);
  CHECK_FALSE(h.certificate().status.order->responded);
  CHECK(result->requeue_after == 20ms);

  // 4. Published: the CA is told to validate.
  h.publishTokens();
  result = h.reconcile();
  REQUIRE(result);
  CHECK(h.ca.count("challenge") == 1);
  CHECK(h.certificate().status.order->responded);
  CHECK(h.lastEvent() == "Normal ValidationRequested");
  CHECK(result->requeue_after == 250ms);

  // 5. The CA still validating: poll again later, nothing new to say.
  h.ca.pending_polls = 1;
  const auto events_before = h.eventReasons().size();
  result = h.reconcile();
  REQUIRE(result);
  CHECK(h.ca.count("order") == 1);
  CHECK(h.certificate().status.order->status == "pending");
  CHECK(h.eventReasons().size() == events_before);
  CHECK(result->requeue_after >= 250ms);

  // 6. Ready: the key waits in a Secret, the CSR goes to finalize (the same reconcile).
  result = h.reconcile();
  REQUIRE(result);
  CHECK(h.ca.count("finalize") == 1);
  cert = h.certificate();
  REQUIRE_FALSE(cert.status.order->next_key_secret.empty());
  CHECK(h.secretExists(cert.status.order->next_key_secret));
  CHECK(h.lastEvent() == "Normal Finalized");
  const std::string next_key = cert.status.order->next_key_secret;

  // 7. Valid: downloaded into the TLS Secret; the next-key Secret is gone; Ready.
  result = h.reconcile();
  REQUIRE(result);
  CHECK(h.ca.count("certificate") == 1);
  auto secret = h.api.get(kube::resources::secrets(), {"shop", "web-tls"});
  REQUIRE(secret);
  CHECK((*secret)["type"] == "kubernetes.io/tls");
  CHECK((*secret)["data"].contains("tls.crt"));
  CHECK((*secret)["data"].contains("tls.key"));
  CHECK((*secret)["data"].contains("ca.crt"));
  CHECK_FALSE(h.secretExists(next_key));
  cert = h.certificate();
  CHECK_FALSE(cert.status.order);
  CHECK(cert.status.revision == 1);
  CHECK(h.condition("Ready") == "True/Ready");
  CHECK(h.condition("Issuing") == "False/Issued");
  CHECK(h.lastEvent() == "Normal Issued");
  CHECK(result->requeue_after == 1s);

  // 8. Up to date: nothing is asked of the CA; the next look is at the renewal time.
  const int orders = h.ca.count("newOrder");
  result = h.reconcile();
  REQUIRE(result);
  CHECK(h.ca.count("newOrder") == orders);
  CHECK(h.condition("Issuing") == "False/UpToDate");
  CHECK(result->requeue_after > 1h);
  CHECK(h.ca.accounts() == 1);
}

TEST_CASE("certificate reconciler: authorizations the CA already holds skip the challenges") {
  Harness h;
  h.ca.reuse_authorizations = true;
  h.runSteps(kChallenges);
  CHECK(h.certificate().status.order->challenges.empty());
  CHECK(h.certificate().status.order->responded);
  CHECK(h.ca.count("challenge") == 0);
  REQUIRE(h.reconcile());  // the order is ready: finalize
  CHECK(h.ca.count("finalize") == 1);
  REQUIRE(h.reconcile());  // valid: download
  CHECK(h.condition("Ready") == "True/Ready");
}

TEST_CASE("certificate reconciler: each failure drops the order, counts, backs off and says why") {
  Harness h;
  auto expectFailure = [&](const std::string& reason) {
    auto result = h.reconcile();
    REQUIRE(result);
    auto cert = h.certificate();
    CHECK_FALSE(cert.status.order);
    CHECK(cert.status.failed_issuance_attempts == 1);
    CHECK(h.condition("Issuing") == "False/" + reason);
    CHECK(h.condition("Ready") == "False/" + reason);
    CHECK(h.lastEvent() == "Warning " + reason);
    CHECK(result->requeue_after == 60s);  // the first failure's backoff
  };

  SUBCASE("the CA lost the order") {
    h.runSteps(kRespond);
    h.ca.forget_orders = true;
    expectFailure("OrderLost");
  }
  SUBCASE("the key of the CSR was deleted before the download") {
    h.runSteps(kFinalize);
    const std::string next_key = h.certificate().status.order->next_key_secret;
    REQUIRE(h.api.remove(kube::resources::secrets(), {"shop", next_key}, {}));
    expectFailure("KeyLost");
  }
  SUBCASE("spec.dnsNames changed during the order") {
    h.runSteps(kChallenges);
    auto live = h.api.get(certificates(), Harness::kKey);
    REQUIRE(live);
    (*live)["spec"]["dnsNames"] = json::array({"a.test", "b.test"});
    REQUIRE(h.api.update(certificates(), *live));
    expectFailure("SpecChanged");
  }
  SUBCASE("the CA rejects the order") {
    h.ca.fail_next["newOrder"] =
        ScriptedCa::problemReply(400, "rejectedIdentifier", "a.test is not allowed");
    expectFailure("OrderFailed");
  }
  SUBCASE("the CA is down (5xx with Retry-After)") {
    h.ca.fail_next["newOrder"] =
        ScriptedCa::problemReply(503, "serverInternal", "maintenance", "7");
    expectFailure("CAUnavailable");
  }
  SUBCASE("the CA rate-limits the order (429 with Retry-After)") {
    h.ca.fail_next["newOrder"] = ScriptedCa::problemReply(429, "rateLimited", "too many", "7");
    expectFailure("OrderFailed");
  }
  SUBCASE("the CA marks the order invalid") {
    h.runSteps(kRespond);
    h.ca.fail_next["order"] = ScriptedCa::problemReply(200, "", "");
    h.ca.fail_next["order"].body = R"({"status":"invalid","identifiers":[],"authorizations":[],
                                      "finalize":"https://ca.test/finalize/1"})";
    h.ca.fail_next["order"].headers = {{"Content-Type", "application/json"}};
    expectFailure("ValidationFailed");
  }
}

TEST_CASE("certificate reconciler: a failed attempt waits out its backoff before the next order") {
  Harness h;
  h.ca.fail_next["newOrder"] = ScriptedCa::problemReply(503, "serverInternal", "down", "");
  REQUIRE(h.reconcile());
  REQUIRE(h.ca.count("newOrder") == 1);
  auto result = h.reconcile();  // too early: no order, the rest of the backoff as requeue
  REQUIRE(result);
  CHECK(h.ca.count("newOrder") == 1);
  CHECK(result->requeue_after > 0ms);
  CHECK(result->requeue_after <= 60s);
  h.clock.advance(61s);
  REQUIRE(h.reconcile());
  CHECK(h.ca.count("newOrder") == 2);
  CHECK(h.certificate().status.order);
}

TEST_CASE("certificate reconciler: a transient CA error while polling keeps the order") {
  Harness h;
  h.runSteps(kRespond);
  h.ca.fail_next["order"] = ScriptedCa::problemReply(503, "serverInternal", "busy", "3");
  auto result = h.reconcile();
  CHECK_FALSE(result);  // the controller retries with its rate limit
  CHECK(result.error().code() == ErrorCode::Unavailable);
  auto cert = h.certificate();
  REQUIRE(cert.status.order);
  CHECK(cert.status.failed_issuance_attempts == 0);
  REQUIRE(h.reconcile());  // the next poll finds the order ready, and finalizes it
  CHECK(h.ca.count("finalize") == 1);
  CHECK(h.certificate().status.order->status == "valid");
}

TEST_CASE("certificate reconciler: an order whose status write failed is resumed, not re-ordered") {
  Harness h;
  h.ca.on_call = [&](const std::string& endpoint) {
    if (endpoint == "newOrder") h.api.setUnavailable(true);  // the status write will fail
  };
  CHECK_FALSE(h.reconcile());
  h.ca.on_call = nullptr;
  h.api.setUnavailable(false);
  CHECK_FALSE(h.certificate().status.order);
  REQUIRE(h.reconcile());
  CHECK(h.ca.count("newOrder") == 1);
  auto cert = h.certificate();
  REQUIRE(cert.status.order);
  CHECK(cert.status.order->url == "https://ca.test/orders/1");
}

TEST_CASE("certificate reconciler: a deleted account key Secret is made and registered again") {
  Harness h;
  h.runSteps(kDownload);
  REQUIRE(h.condition("Ready") == "True/Ready");
  REQUIRE(h.api.remove(kube::resources::secrets(), {"portico-system", "portico-acme-portico"}, {}));
  // A renewal asked for by the user (the portico.io/renew annotation, as `portico renew` sets).
  auto live = h.api.get(certificates(), Harness::kKey);
  REQUIRE(live);
  (*live)["metadata"]["annotations"][kRenewAnnotation] = "now";
  REQUIRE(h.api.update(certificates(), *live));
  REQUIRE(h.reconcile());
  CHECK(h.ca.accounts() == 2);
  CHECK(h.api.get(kube::resources::secrets(), {"portico-system", "portico-acme-portico"}));
  CHECK(h.certificate().status.order);
}

TEST_CASE("certificate reconciler: a Secret Portico does not own is never written") {
  Harness h;
  REQUIRE(h.api.create(kube::resources::secrets(),
                       json{{"apiVersion", "v1"},
                            {"kind", "Secret"},
                            {"metadata", {{"name", "web-tls"}, {"namespace", "shop"}}},
                            {"type", "kubernetes.io/tls"},
                            {"data", json::object()}}));
  auto result = h.reconcile();
  REQUIRE(result);
  CHECK(h.ca.count("newOrder") == 0);
  CHECK(h.condition("Ready") == "False/SecretOwnedByOther");
  CHECK(h.lastEvent() == "Warning SecretOwnedByOther");
  CHECK(result->requeue_after == 5min);
}
