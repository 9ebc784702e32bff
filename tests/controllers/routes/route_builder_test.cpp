// RouteBuilder: which class settings and Secrets a build uses, and the "last good" state that
// keeps a working proxy working through bad input. Pure objects in, BuiltRoutes out, FakeClock.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "controllers/routes/route_builder.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/test_certs.h"

using namespace portico;
using namespace portico::controllers::routes;
using crds::Json;
using namespace std::chrono_literals;

namespace {

template <typename T>
std::shared_ptr<const T> parse(const Json& json) {
  return std::make_shared<const T>(json.get<T>());
}

// Secrets by key; the builder sees those it wants that exist.
class MapSecrets final : public SecretSource {
public:
  void setWanted(const std::set<ObjectKey>& wanted) override { wanted_ = wanted; }
  bool settled() const override { return settled_; }
  std::vector<std::shared_ptr<const crds::Secret>> secrets() const override {
    std::vector<std::shared_ptr<const crds::Secret>> out;
    for (const auto& key : wanted_)
      if (auto it = stored_.find(key); it != stored_.end()) out.push_back(it->second);
    return out;
  }

  void put(const ObjectKey& key, const std::string& crt, const std::string& key_pem) {
    auto secret = std::make_shared<crds::Secret>();
    secret->metadata.namespace_ = key.namespace_;
    secret->metadata.name = key.name;
    secret->type = crds::kTlsSecretType;
    secret->data = {{"tls.crt", crt}, {"tls.key", key_pem}};
    stored_[key] = secret;
  }

  std::set<ObjectKey> wanted_;
  bool settled_ = true;
  std::map<ObjectKey, std::shared_ptr<const crds::Secret>> stored_;
};

Json ingressJson(const std::string& name, const std::string& tls_secret = "") {
  Json spec = {
      {"ingressClassName", "portico"},
      {"rules",
       {{{"host", name + ".test"},
         {"http",
          {{"paths",
            {{{"path", "/"},
              {"pathType", "Prefix"},
              {"backend", {{"service", {{"name", "web"}, {"port", {{"number", 80}}}}}}}}}}}}}}}};
  if (!tls_secret.empty())
    spec["tls"] = {{{"hosts", {name + ".test"}}, {"secretName", tls_secret}}};
  return {{"metadata", {{"namespace", "shop"}, {"name", name}}}, {"spec", spec}};
}

Json classJson(bool with_config) {
  Json spec = {{"controller", crds::kPorticoController}};
  if (with_config)
    spec["parameters"] = {
        {"apiGroup", "portico.io"}, {"kind", "IngressClassConfig"}, {"name", "portico"}};
  return {{"metadata", {{"name", "portico"}}}, {"spec", spec}};
}

// A config with the given listener address; header timeout 0 makes it invalid.
Json configJson(int64_t generation, const std::string& address, int header_timeout = 10) {
  return {{"metadata", {{"name", "portico"}, {"generation", generation}}},
          {"spec",
           {{"listeners", {{"address", address}}},
            {"proxy", {{"headerTimeoutSeconds", header_timeout}}}}}};
}

struct Fixture {
  testing::FakeClock clock;
  MapSecrets secrets;
  std::vector<ObjectKey> unserved_reports;
  RouteBuilder builder{RouteBuilderOptions{}, secrets, clock,
                       [this](const ObjectKey& key) { unserved_reports.push_back(key); }};
  RouteSources sources;

  Fixture() {
    sources.classes = {parse<crds::IngressClass>(classJson(true))};
    sources.configs = {parse<crds::IngressClassConfig>(configJson(1, "127.0.0.1"))};
    sources.ingresses = {parse<crds::Ingress>(ingressJson("a"))};
  }
  void setConfig(const Json& config) {
    sources.configs = {parse<crds::IngressClassConfig>(config)};
  }
};

}  // namespace

TEST_CASE("route builder: the class settings a build uses") {
  struct Row {
    const char* name;
    std::vector<Json> configs;  // built in turn; the last build is checked
    bool class_names_config = true;
    bool ready;
    std::string address;  // of the applied listeners
    int64_t applied_generation;
  };
  const std::vector<Row> rows = {
      {"no config named: built-in defaults", {}, false, true, "0.0.0.0", 0},
      {"a valid config is applied", {configJson(3, "127.0.0.2")}, true, true, "127.0.0.2", 3},
      {"an invalid config keeps the last valid settings",
       {configJson(3, "127.0.0.2"), configJson(4, "127.0.0.9", 0)},
       true,
       true,
       "127.0.0.2",
       3},
      {"never valid: nothing is built", {configJson(4, "127.0.0.9", 0)}, true, false, "", 0},
      {"valid after invalid: applied",
       {configJson(4, "127.0.0.9", 0), configJson(5, "127.0.0.5")},
       true,
       true,
       "127.0.0.5",
       5},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    Fixture f;
    f.sources.classes = {parse<crds::IngressClass>(classJson(row.class_names_config))};
    if (!row.class_names_config) f.sources.configs.clear();
    BuiltRoutes built;
    if (row.configs.empty()) built = f.builder.build(f.sources);
    for (const auto& config : row.configs) {
      f.setConfig(config);
      built = f.builder.build(f.sources);
    }
    CHECK(built.ready == row.ready);
    CHECK(built.applied_config_generation == row.applied_generation);
    if (row.ready) {
      REQUIRE(built.applied_spec);
      CHECK(built.applied_spec->listeners.address == row.address);
      CHECK(built.compiled.table.listeners().address == row.address);
      CHECK(built.ingresses == std::set<ObjectKey>{{"shop", "a"}});
    } else {
      CHECK_FALSE(built.applied_spec);
    }
  }
}

TEST_CASE("route builder: a config never valid is reported once for its status") {
  Fixture f;
  f.setConfig(configJson(2, "127.0.0.9", 0));
  CHECK_FALSE(f.builder.build(f.sources).ready);
  CHECK_FALSE(f.builder.build(f.sources).ready);
  CHECK(f.unserved_reports == std::vector<ObjectKey>{{"", "portico"}});
  CHECK(f.builder.unservedConfig() == "portico");

  // Another problem with it is a new report.
  Json other = configJson(3, "127.0.0.9", 0);
  other["spec"]["listeners"]["http"] = {{"port", 70000}};
  f.setConfig(other);
  CHECK_FALSE(f.builder.build(f.sources).ready);
  CHECK(f.unserved_reports.size() == 2);
}

TEST_CASE("route builder: the first snapshot waits for referenced Secrets, up to the grace") {
  Fixture f;
  f.sources.ingresses = {parse<crds::Ingress>(ingressJson("a", "a-tls")),
                         parse<crds::Ingress>(ingressJson("b", "b-tls"))};
  Json config = configJson(1, "127.0.0.1");
  config["spec"]["defaultCertificate"] = {{"namespace", "ops"}, {"name", "fallback"}};
  f.setConfig(config);
  f.secrets.settled_ = false;

  CHECK_FALSE(f.builder.build(f.sources).ready);
  CHECK(f.secrets.wanted_ ==
        std::set<ObjectKey>{{"shop", "a-tls"}, {"shop", "b-tls"}, {"ops", "fallback"}});
  f.clock.advance(2900ms);
  CHECK_FALSE(f.builder.build(f.sources).ready);
  f.clock.advance(100ms);
  CHECK(f.builder.build(f.sources).ready);  // the grace is over: served without them

  // Once something is published, a new unsettled Secret does not hold a build back.
  Fixture later;
  later.secrets.settled_ = false;
  later.sources.published = true;
  CHECK(later.builder.build(later.sources).ready);

  // Settled at once: no wait.
  Fixture settled;
  CHECK(settled.builder.build(settled.sources).ready);
}

TEST_CASE("route builder: a Secret's last servable version stays in service") {
  Fixture f;
  f.sources.ingresses = {parse<crds::Ingress>(ingressJson("a", "a-tls"))};
  const ObjectKey key{"shop", "a-tls"};
  const auto now = f.clock.now();
  auto good = testing::makeCertificate({"a.test"}, now - 1h, now + 24h);
  f.secrets.put(key, good.cert_pem, good.key_pem);
  auto built = f.builder.build(f.sources);
  REQUIRE(built.ready);
  CHECK(built.compiled.table.hasCertificateFor("a.test"));

  // A bad write (the key of another certificate): the good pair is still served.
  auto other = testing::makeCertificate({"a.test"}, now - 1h, now + 24h);
  f.secrets.put(key, good.cert_pem, other.key_pem);
  built = f.builder.build(f.sources);
  CHECK(built.compiled.table.hasCertificateFor("a.test"));
  bool reported = false;
  for (const auto& problem : built.compiled.problems)
    reported |= problem.kind == ProblemKind::InvalidTlsSecret;
  CHECK(reported);

  // No longer wanted: forgotten, so coming back with a bad version serves nothing stale.
  f.sources.ingresses = {parse<crds::Ingress>(ingressJson("a"))};
  (void)f.builder.build(f.sources);
  f.sources.ingresses = {parse<crds::Ingress>(ingressJson("a", "a-tls"))};
  built = f.builder.build(f.sources);
  CHECK_FALSE(built.compiled.table.hasCertificateFor("a.test"));

  // An expired pair (by the clock the builder is given) is never remembered as good.
  Fixture expired;
  expired.sources.ingresses = f.sources.ingresses;
  auto old = testing::makeCertificate({"a.test"}, now - 48h, now - 1h);
  expired.secrets.put(key, old.cert_pem, old.key_pem);
  CHECK_FALSE(expired.builder.build(expired.sources).compiled.table.hasCertificateFor("a.test"));
}

TEST_CASE("route builder: pending HTTP-01 tokens of every Certificate are served") {
  Fixture f;
  auto certificate = [](const std::string& name, const Json& challenges) {
    Json status = Json::object();
    if (!challenges.empty())
      status["order"] = {{"url", "https://ca/order/1"}, {"challenges", challenges}};
    return parse<crds::Certificate>({{"metadata", {{"namespace", "shop"}, {"name", name}}},
                                     {"spec", {{"secretName", name}, {"dnsNames", {"a.test"}}}},
                                     {"status", status}});
  };
  f.sources.certificates = {
      certificate("one", {{{"dnsName", "a.test"}, {"token", "t1"}, {"keyAuthorization", "t1.k"}},
                          {{"dnsName", "b.test"}, {"token", "t2"}, {"keyAuthorization", "t2.k"}}}),
      certificate("idle", Json::array())};
  auto built = f.builder.build(f.sources);
  REQUIRE(built.ready);
  CHECK(built.compiled.table.acmeTokens() ==
        std::map<std::string, std::string>{{"t1", "t1.k"}, {"t2", "t2.k"}});
}
