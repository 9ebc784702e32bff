#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "controllers/certificate/order_machine.h"
#include "controllers/certificate/policies.h"
#include "controllers/ingress/certificates.h"
#include "operator/base/pem.h"
#include "operator/base/time_format.h"
#include "tests/fakes/test_certs.h"

using namespace portico;
using namespace portico::controllers;
using namespace std::chrono_literals;
using crds::Json;

namespace {
using WallClock = std::chrono::system_clock;
const WallClock::time_point kStart = WallClock::from_time_t(1800000000);

crds::Certificate cert(std::vector<std::string> names, Json spec_extra = Json::object()) {
  Json spec = {{"secretName", "app-tls"}, {"dnsNames", names}};
  spec.update(spec_extra);
  Json j = {{"metadata", {{"name", "app"}, {"namespace", "shop"}}}, {"spec", spec}};
  return j.get<crds::Certificate>();
}

crds::Secret secretFor(const testing::TestCertificate& tc) {
  crds::Secret s;
  s.metadata.name = "app-tls";
  s.metadata.namespace_ = "shop";
  s.type = crds::kTlsSecretType;
  s.data["tls.crt"] = tc.cert_pem;
  s.data["tls.key"] = tc.key_pem;
  return s;
}
}  // namespace

TEST_CASE("renewal time: 2/3 of the lifetime by default, renewBefore, renewBeforePercentage") {
  const auto not_before = kStart;
  const auto not_after = kStart + 90 * 24h;
  CHECK(certificate::renewalTime(not_before, not_after, cert({"a"}).spec) == kStart + 60 * 24h);
  CHECK(certificate::renewalTime(not_before, not_after,
                                 cert({"a"}, {{"renewBefore", "720h"}}).spec) == kStart + 60 * 24h);
  CHECK(certificate::renewalTime(not_before, not_after,
                                 cert({"a"}, {{"renewBefore", "240h"}}).spec) == kStart + 80 * 24h);
  CHECK(certificate::renewalTime(not_before, not_after,
                                 cert({"a"}, {{"renewBeforePercentage", 10}}).spec) ==
        kStart + 81 * 24h);
  // renewBefore longer than the lifetime: renew at once rather than before issuance.
  CHECK(certificate::renewalTime(not_before, not_after,
                                 cert({"a"}, {{"renewBefore", "9000h"}}).spec) == not_before);
}

TEST_CASE("issuance trigger: each reason in order, none for a good Secret") {
  const auto now = WallClock::now();
  auto good = testing::makeCertificate({"app.test", "www.app.test"}, now - 1h, now + 90 * 24h);
  auto c = cert({"app.test", "www.app.test"});
  struct Row {
    const char* name;
    std::optional<crds::Secret> secret;
    crds::Certificate cert;
    std::string reason;  // "" = no issuance
  };
  crds::Secret missing_key = secretFor(good);
  missing_key.data.erase("tls.key");
  crds::Secret mismatched = secretFor(good);
  mismatched.data["tls.key"] = testing::makeCertificate({"x"}).key_pem;
  auto expired = testing::makeCertificate({"app.test", "www.app.test"}, now - 48h, now - 1h);
  auto old = testing::makeCertificate({"app.test", "www.app.test"}, now - 80 * 24h, now + 10 * 24h);
  auto renew_requested = c;
  renew_requested.metadata.annotations[certificate::kRenewAnnotation] = "2026-11-26";
  std::vector<Row> rows = {
      {"no Secret", std::nullopt, c, "SecretMissing"},
      {"no tls.key", missing_key, c, "SecretInvalid"},
      {"a key of another certificate", mismatched, c, "SecretInvalid"},
      {"expired", secretFor(expired), c, "SecretInvalid"},
      {"a name added", secretFor(good), cert({"app.test", "www.app.test", "api.app.test"}),
       "DNSNamesChanged"},
      {"names compare case-insensitively", secretFor(good), cert({"App.Test", "www.app.test"}), ""},
      {"renewal requested", secretFor(good), renew_requested, "RenewalRequested"},
      {"past 2/3 of the lifetime", secretFor(old), c, "Renewing"},
      {"good", secretFor(good), c, ""},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      auto trigger =
          certificate::issuanceTrigger(row.cert, row.secret ? &*row.secret : nullptr, now);
      CHECK((trigger ? trigger->reason : std::string()) == row.reason);
    }
  }
}

TEST_CASE("renewal requested: satisfied once the Secret carries the same value") {
  const auto now = WallClock::now();
  auto good = testing::makeCertificate({"app.test"}, now - 1h, now + 90 * 24h);
  auto c = cert({"app.test"});
  c.metadata.annotations[certificate::kRenewAnnotation] = "1";
  auto secret = secretFor(good);
  secret.metadata.annotations[certificate::kRenewAnnotation] = "1";
  CHECK_FALSE(certificate::issuanceTrigger(c, &secret, now));
}

TEST_CASE("ARI (RFC 9773): a stable moment inside the CA's window; the earlier time wins") {
  const auto start = kStart + 50 * 24h;
  const auto end = kStart + 52 * 24h;
  std::set<int64_t> moments;
  for (const char* id : {"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
                         "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyF", "other.AQ", "other.Ag"}) {
    const auto moment = certificate::momentInWindow(start, end, id);
    CHECK(moment >= start);
    CHECK(moment < end);
    CHECK(moment == certificate::momentInWindow(start, end, id));  // every replica agrees
    moments.insert(std::chrono::duration_cast<std::chrono::seconds>(moment - start).count());
  }
  CHECK(moments.size() == 4);                                  // spread, not one fixed offset
  CHECK(certificate::momentInWindow(end, start, "x") == end);  // an inverted window: its start

  const auto not_before = kStart;
  const auto not_after = kStart + 90 * 24h;
  const auto spec = cert({"a"}).spec;  // policy: day 60
  CHECK(certificate::renewalTime(not_before, not_after, spec, std::nullopt) == kStart + 60 * 24h);
  CHECK(certificate::renewalTime(not_before, not_after, spec, kStart + 10 * 24h) ==
        kStart + 10 * 24h);  // the CA wants it early (e.g. a revocation incident)
  CHECK(certificate::renewalTime(not_before, not_after, spec, kStart + 80 * 24h) ==
        kStart + 60 * 24h);  // the user's policy stays a bound

  const auto now = WallClock::now();
  auto good = testing::makeCertificate({"app.test"}, now - 1h, now + 90 * 24h);
  auto c = cert({"app.test"});
  auto secret = secretFor(good);
  CHECK_FALSE(certificate::issuanceTrigger(c, &secret, now, now + 24h));
  auto trigger = certificate::issuanceTrigger(c, &secret, now, now - 1min);
  REQUIRE(trigger);
  CHECK(trigger->reason == "RenewalWindow");
  CHECK(trigger->message.find("RFC 9773") != std::string::npos);
}

TEST_CASE("ca.crt: the root when the chain carries it, nothing otherwise") {
  const auto now = WallClock::now();
  auto root = testing::makeCertificate({"root.ca"}, now - 1h, now + 900 * 24h, nullptr, true);
  auto intermediate =
      testing::makeCertificate({"intermediate.ca"}, now - 1h, now + 900 * 24h, &root, true);
  auto leaf = testing::makeCertificate({"app.test"}, now - 1h, now + 90 * 24h, &intermediate);
  auto other_root =
      testing::makeCertificate({"other.ca"}, now - 1h, now + 900 * 24h, nullptr, true);
  auto root_pem = portico::chainRootPem(leaf.cert_pem + intermediate.cert_pem + root.cert_pem);
  REQUIRE(root_pem);
  CHECK(*root_pem == root.cert_pem);
  CHECK_FALSE(portico::chainRootPem(leaf.cert_pem + intermediate.cert_pem));  // ACME's usual
  CHECK_FALSE(portico::chainRootPem(leaf.cert_pem));
  // A self-signed certificate that did not issue the one before it is not this chain's root.
  CHECK_FALSE(portico::chainRootPem(leaf.cert_pem + intermediate.cert_pem + other_root.cert_pem));
  CHECK_FALSE(portico::chainRootPem("garbage"));
}

TEST_CASE("failure backoff doubles up to the cap") {
  CHECK(certificate::failureBackoff(0, 60s, 8h) == 0s);
  CHECK(certificate::failureBackoff(1, 60s, 8h) == 60s);
  CHECK(certificate::failureBackoff(2, 60s, 8h) == 120s);
  CHECK(certificate::failureBackoff(5, 60s, 8h) == 960s);
  CHECK(certificate::failureBackoff(50, 60s, 8h) == 8h);
}

TEST_CASE("durations: Kubernetes style") {
  CHECK(crds::parseDuration("720h") == 720h);
  CHECK(crds::parseDuration("1h30m") == 90min);
  CHECK(crds::parseDuration("45s") == 45s);
  CHECK_FALSE(crds::parseDuration("3d"));
  CHECK_FALSE(crds::parseDuration("h"));
  CHECK(crds::formatDuration(5400s) == "1h30m");
  CHECK(crds::formatDuration(0s) == "0s");
}

TEST_CASE("Ingress → Certificates: the annotation or autoTLS; one per tls entry, owned") {
  Json j = {{"metadata", {{"name", "shop"}, {"namespace", "web"}, {"uid", "u-1"}}},
            {"spec",
             {{"tls",
               {{{"hosts", {"a.test", "b.test"}}, {"secretName", "ab-tls"}},
                {{"hosts", Json::array()}, {"secretName", "empty"}},
                {{"hosts", {"c.test"}}, {"secretName", "c-tls"}}}}}}};
  auto ing = j.get<crds::Ingress>();
  CHECK(ingress::desiredCertificates(ing, false, "portico").empty());
  auto from_auto = ingress::desiredCertificates(ing, true, "portico");
  REQUIRE(from_auto.size() == 2);
  CHECK(from_auto[0].metadata.name == "ab-tls");
  CHECK(from_auto[0].metadata.namespace_ == "web");
  CHECK(from_auto[0].spec.dns_names == std::vector<std::string>{"a.test", "b.test"});
  CHECK(from_auto[0].spec.issuer == "portico");
  REQUIRE(from_auto[0].metadata.owner_references.size() == 1);
  CHECK(from_auto[0].metadata.owner_references[0].uid == "u-1");
  CHECK(from_auto[0].metadata.owner_references[0].controller);
  ing.metadata.annotations[ingress::kTlsAcmeAnnotation] = "true";
  CHECK(ingress::desiredCertificates(ing, false, "portico").size() == 2);
  ing.metadata.annotations[ingress::kTlsAcmeAnnotation] = "false";  // opts out of autoTLS
  CHECK(ingress::desiredCertificates(ing, true, "portico").empty());
}

TEST_CASE("Certificate codec: the order in progress round-trips; a finished order is removed") {
  auto c = cert({"a.test"},
                {{"renewBefore", "240h"}, {"privateKey", {{"algorithm", "RSA"}, {"size", 3072}}}});
  crds::OrderProgress order;
  order.url = "https://ca/order/1";
  order.status = "pending";
  order.dns_names = {"a.test"};
  order.challenges = {{"a.test", "tok", "tok.thumb", "https://ca/chall/1"}};
  c.status.order = order;
  Json j = c;
  auto back = j.get<crds::Certificate>();
  REQUIRE(back.status.order);
  CHECK(*back.status.order == order);
  CHECK(back.spec == c.spec);
  c.status.order.reset();
  Json done = c;
  CHECK(done["status"]["order"].is_null());  // merge patch null deletes the field
  CHECK(crds::validate(cert({}).spec).size() == 1);
  CHECK(crds::validate(cert({"a"}, {{"privateKey", {{"algorithm", "ECDSA"}, {"size", 2048}}}}).spec)
            .size() == 1);
}

TEST_CASE("order machine: the next step from the order's progress") {
  using certificate::OrderStep;
  crds::OrderProgress fetched;
  fetched.url = "https://ca/order/1";
  fetched.challenges = {{"a.test", "tok", "tok.thumb", "https://ca/chall/1"}};
  crds::OrderProgress responded = fetched;
  responded.responded = true;
  crds::OrderProgress reused;  // every authorization was already valid: nothing to answer
  reused.url = "https://ca/order/2";
  reused.responded = true;
  crds::OrderProgress fresh;
  fresh.url = "https://ca/order/3";
  struct Row {
    const char* name;
    std::optional<crds::OrderProgress> order;
    bool tokens_live;
    OrderStep step;
  };
  std::vector<Row> rows = {
      {"no order", std::nullopt, false, OrderStep::NewOrder},
      {"order without challenges read", fresh, false, OrderStep::FetchChallenges},
      {"tokens not live yet", fetched, false, OrderStep::AwaitTokens},
      {"tokens live", fetched, true, OrderStep::RespondChallenges},
      {"CA told", responded, false, OrderStep::PollOrder},
      {"authorizations reused", reused, false, OrderStep::PollOrder},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      CHECK(std::string(certificate::orderStepName(certificate::nextOrderStep(
                row.order, row.tokens_live))) == certificate::orderStepName(row.step));
    }
  }
}

TEST_CASE("order machine: what the CA's order status means") {
  using certificate::OrderAction;
  CHECK(certificate::actionForOrderStatus("pending") == OrderAction::Wait);
  CHECK(certificate::actionForOrderStatus("processing") == OrderAction::Wait);
  CHECK(certificate::actionForOrderStatus("ready") == OrderAction::Finalize);
  CHECK(certificate::actionForOrderStatus("valid") == OrderAction::Download);
  CHECK(certificate::actionForOrderStatus("invalid") == OrderAction::Fail);
  CHECK(certificate::actionForOrderStatus("") == OrderAction::Fail);
}
