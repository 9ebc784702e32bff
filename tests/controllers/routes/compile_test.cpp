#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "controllers/routes/compile.h"
#include "tests/fakes/test_certs.h"

using namespace portico;
using namespace portico::controllers::routes;
using crds::Json;

namespace {

template <typename T>
std::shared_ptr<const T> parse(const std::string& json) {
  return std::make_shared<const T>(Json::parse(json).get<T>());
}

std::shared_ptr<const crds::Ingress> ingress(const std::string& ns, const std::string& name,
                                             const std::string& created, const std::string& spec,
                                             const std::string& annotations = "{}") {
  return parse<crds::Ingress>(R"({"metadata":{"namespace":")" + ns + R"(","name":")" + name +
                              R"(","creationTimestamp":")" + created + R"(","annotations":)" +
                              annotations + R"(},"spec":)" + spec + "}");
}

std::shared_ptr<const crds::Service> service(const std::string& ns, const std::string& name) {
  return parse<crds::Service>(
      R"({"metadata":{"namespace":")" + ns + R"(","name":")" + name +
      R"("},"spec":{"ports":[{"name":"http","port":80,"targetPort":8080}]}})");
}

std::shared_ptr<const crds::EndpointSlice> slice(const std::string& ns, const std::string& svc,
                                                 const std::string& endpoints) {
  return parse<crds::EndpointSlice>(
      R"({"metadata":{"namespace":")" + ns + R"(","name":")" + svc +
      R"(-abc","labels":{"kubernetes.io/service-name":")" + svc +
      R"("}},"addressType":"IPv4","ports":[{"name":"http","port":8080}],"endpoints":)" + endpoints +
      "}");
}

std::string rule(const std::string& host, const std::string& path, const std::string& svc,
                 const std::string& type = "Prefix") {
  return R"({"host":")" + host + R"(","http":{"paths":[{"path":")" + path + R"(","pathType":")" +
         type + R"(","backend":{"service":{"name":")" + svc + R"(","port":{"number":80}}}}]}})";
}

RouteInputs baseInputs() {
  RouteInputs in;
  in.services = {service("web", "site"), service("web", "api")};
  in.endpoint_slices = {
      slice("web", "site",
            R"([{"addresses":["10.0.0.2"],"conditions":{"ready":true}},
                {"addresses":["10.0.0.1"]},
                {"addresses":["10.0.0.3"],"conditions":{"ready":false}}])"),
      slice("web", "api", R"([{"addresses":["10.0.1.1"],"conditions":{"ready":true}}])")};
  in.now = std::chrono::system_clock::now();
  return in;
}

std::string served(const proxy::RouteTable& table, const std::string& host,
                   const std::string& path) {
  auto result = table.match(host, path);
  return result.found() ? result.backend->name : "404";
}

}  // namespace

TEST_CASE("compile: Service port → EndpointSlice port → ready endpoints, sorted") {
  auto in = baseInputs();
  in.ingresses = {ingress("web", "site", "2026-01-01T00:00:00Z",
                          R"({"rules":[)" + rule("a.example", "/", "site") + "]}")};
  auto out = compileRoutes(in);
  CHECK(out.problems.empty());
  auto result = out.table.match("a.example", "/x");
  REQUIRE(result.found());
  CHECK(result.backend->name == "web/site:80");
  REQUIRE(result.backend->endpoints.size() == 2);  // the not-ready one is left out
  CHECK(result.backend->endpoints[0] == proxy::Endpoint{"10.0.0.1", 8080});
  CHECK(result.backend->endpoints[1] == proxy::Endpoint{"10.0.0.2", 8080});
  CHECK(result.route->source == "web/site rule 0 path 0");
}

TEST_CASE("compile: Ingresses for one host merge; identical claims go to the oldest") {
  auto in = baseInputs();
  in.ingresses = {
      ingress("web", "newer", "2026-02-01T00:00:00Z",
              R"({"rules":[)" + rule("a.example", "/", "api") + "," +
                  rule("a.example", "/api", "api") + "]}"),
      ingress("web", "older", "2026-01-01T00:00:00Z",
              R"({"rules":[)" + rule("a.example", "/", "site") + "]}"),
  };
  auto out = compileRoutes(in);
  CHECK(served(out.table, "a.example", "/") == "web/site:80");      // the older wins "/"
  CHECK(served(out.table, "a.example", "/api/x") == "web/api:80");  // the newer still adds /api
  REQUIRE(out.problems.size() == 1);
  CHECK(out.problems[0].kind == ProblemKind::Conflict);
  CHECK(out.problems[0].ingress == ObjectKey{"web", "newer"});
  CHECK(out.problems[0].message.find("already served by Ingress web/older") != std::string::npos);
}

TEST_CASE("compile: equal creation times resolve by namespace/name, whatever the input order") {
  for (bool reversed : {false, true}) {
    auto in = baseInputs();
    auto a = ingress("web", "a", "2026-01-01T00:00:00Z",
                     R"({"rules":[)" + rule("h", "/", "site") + "]}");
    auto b =
        ingress("web", "b", "2026-01-01T00:00:00Z", R"({"rules":[)" + rule("h", "/", "api") + "]}");
    in.ingresses = reversed ? decltype(in.ingresses){b, a} : decltype(in.ingresses){a, b};
    auto out = compileRoutes(in);
    CHECK(served(out.table, "h", "/") == "web/site:80");
    REQUIRE(out.problems.size() == 1);
    CHECK(out.problems[0].ingress.name == "b");
  }
}

TEST_CASE("compile: missing Service, missing port, no ready endpoint → 503 backends with reasons") {
  auto in = baseInputs();
  in.endpoint_slices.push_back(
      slice("web", "empty", R"([{"addresses":["10.9.9.9"],"conditions":{"ready":false}}])"));
  in.services.push_back(service("web", "empty"));
  in.ingresses = {ingress(
      "web", "i", "2026-01-01T00:00:00Z",
      R"({"rules":[)" + rule("h", "/missing", "nope") + "," + rule("h", "/empty", "empty") +
          R"(,{"host":"h","http":{"paths":[{"path":"/port","pathType":"Prefix","backend":{"service":{"name":"site","port":{"name":"grpc"}}}}]}}]})")};
  auto out = compileRoutes(in);
  auto missing = out.table.match("h", "/missing");
  REQUIRE(missing.found());
  CHECK(missing.backend->endpoints.empty());
  CHECK(missing.backend->problem == "Service web/nope not found");
  CHECK(out.table.match("h", "/empty").backend->problem ==
        "Service web/empty has no ready endpoints");
  CHECK(out.table.match("h", "/port").backend->problem == "Service web/site has no port grpc");
  std::vector<ProblemKind> kinds;
  for (const auto& p : out.problems) kinds.push_back(p.kind);
  CHECK(kinds == std::vector<ProblemKind>{ProblemKind::ServiceNotFound,
                                          ProblemKind::NoReadyEndpoints,
                                          ProblemKind::PortNotFound});
}

TEST_CASE("compile: the default backend belongs to the oldest Ingress that sets one") {
  auto in = baseInputs();
  in.ingresses = {
      ingress("web", "second", "2026-02-01T00:00:00Z",
              R"({"defaultBackend":{"service":{"name":"api","port":{"number":80}}}})"),
      ingress("web", "first", "2026-01-01T00:00:00Z",
              R"({"defaultBackend":{"service":{"name":"site","port":{"number":80}}}})"),
  };
  auto out = compileRoutes(in);
  CHECK(served(out.table, "any.host", "/whatever") == "web/site:80");
  REQUIRE(out.problems.size() == 1);
  CHECK(out.problems[0].ingress.name == "second");
}

TEST_CASE("compile: invalid hosts, paths and annotations are reported, the rest still served") {
  auto in = baseInputs();
  in.ingresses = {ingress(
      "web", "i", "2026-01-01T00:00:00Z",
      R"({"rules":[)" + rule("bad host!", "/", "site") + "," + rule("*.*.x", "/", "site") + "," +
          rule("ok.example", "relative", "site") + "," + rule("ok.example", "/fine", "site") + "]}",
      R"({"portico.io/ssl-redirect":"yes please"})")};
  auto out = compileRoutes(in);
  CHECK(served(out.table, "ok.example", "/fine") == "web/site:80");
  std::vector<ProblemKind> kinds;
  for (const auto& p : out.problems) kinds.push_back(p.kind);
  CHECK(kinds == std::vector<ProblemKind>{ProblemKind::InvalidAnnotation, ProblemKind::InvalidHost,
                                          ProblemKind::InvalidHost, ProblemKind::InvalidPath});
}

TEST_CASE("compile: a rule path that cannot be normalized is refused, never widened to /") {
  const char* bad_paths[] = {"/only%zz", "/exact%00", "/trailing%", "/a?b=1", "/a#frag"};
  for (const char* bad : bad_paths) {
    for (const char* type : {"Prefix", "Exact", "ImplementationSpecific"}) {
      SUBCASE((std::string(type) + " " + bad).c_str()) {
        auto in = baseInputs();
        in.ingresses = {ingress("web", "i", "2026-01-01T00:00:00Z",
                                R"({"rules":[)" + rule("h.example", bad, "site", type) + "," +
                                    rule("h.example", "/ok", "api") + "]}")};
        auto out = compileRoutes(in);
        CHECK(served(out.table, "h.example", "/") == "404");
        CHECK(served(out.table, "h.example", "/anything") == "404");
        CHECK(served(out.table, "h.example", "/ok") == "web/api:80");
        REQUIRE(out.problems.size() == 1);
        CHECK(out.problems[0].kind == ProblemKind::InvalidPath);
        CHECK(out.problems[0].message.find(bad) != std::string::npos);
      }
    }
  }
}

TEST_CASE("compile: TLS Secrets become SNI certificates; bad ones are reported and not served") {
  auto good = testing::makeCertificate({"a.example", "*.b.example"});
  auto other = testing::makeCertificate({"c.example"});
  auto now = std::chrono::system_clock::now();
  auto expired = testing::makeCertificate({"d.example"}, now - std::chrono::hours(48),
                                          now - std::chrono::hours(24));
  auto secret = [](const std::string& name, const std::string& crt, const std::string& key) {
    crds::Secret s;
    s.metadata.namespace_ = "web";
    s.metadata.name = name;
    s.type = crds::kTlsSecretType;
    s.data = {{"tls.crt", crt}, {"tls.key", key}};
    return std::make_shared<const crds::Secret>(s);
  };
  auto in = baseInputs();
  in.secrets = {secret("good", good.cert_pem, good.key_pem),
                secret("mismatch", good.cert_pem, other.key_pem),
                secret("expired", expired.cert_pem, expired.key_pem)};
  in.ingresses = {ingress("web", "i", "2026-01-01T00:00:00Z",
                          R"({"tls":[{"hosts":["a.example","*.b.example"],"secretName":"good"},
                                     {"hosts":["c.example"],"secretName":"mismatch"},
                                     {"hosts":["d.example"],"secretName":"expired"},
                                     {"hosts":["e.example"],"secretName":"absent"}],
                              "rules":[)" +
                              rule("a.example", "/", "site") + "," +
                              rule("plain.example", "/", "site") + "," +
                              rule("y.b.example", "/", "site") + "]}")};
  auto out = compileRoutes(in);
  REQUIRE(out.table.certificates().size() == 1);
  CHECK(out.table.certificates()[0].source == "web/good");
  CHECK(out.table.certificateFor("a.example") == 0);
  CHECK(out.table.certificateFor("x.b.example") == 0);
  CHECK(out.table.certificateFor("c.example") == -1);
  // HTTP→HTTPS redirect only where a certificate exists.
  CHECK(out.table.match("a.example", "/").route->options.ssl_redirect);
  CHECK_FALSE(out.table.match("plain.example", "/").route->options.ssl_redirect);
  CHECK(out.table.match("y.b.example", "/").route->options.ssl_redirect);  // via the wildcard
  std::vector<std::string> messages;
  for (const auto& p : out.problems) messages.push_back(p.message);
  REQUIRE(messages.size() == 3);
  CHECK(messages[0] ==
        "TLS Secret web/mismatch: tls.key does not match the certificate in tls.crt");
  CHECK(messages[1] == "TLS Secret web/expired: the certificate has expired");
  CHECK(messages[2] == "TLS Secret web/absent not found");

  SUBCASE("a broken Secret keeps its last valid certificate in service, and says so") {
    in.last_good_secrets[{"web", "mismatch"}] = secret("mismatch", other.cert_pem, other.key_pem);
    in.last_good_secrets[{"web", "expired"}] = secret("expired", expired.cert_pem, expired.key_pem);
    auto kept = compileRoutes(in);
    CHECK(kept.table.certificateFor("c.example") >= 0);   // the last good one
    CHECK(kept.table.certificateFor("d.example") == -1);  // an expired "last good" is no good
    CHECK(kept.problems[0].message ==
          "TLS Secret web/mismatch: tls.key does not match the certificate in tls.crt; the last "
          "valid certificate stays in service");
  }
  SUBCASE("an undecodable Secret is invalid, not missing: the last valid one stays") {
    crds::Secret undecodable;
    undecodable.metadata.namespace_ = "web";
    undecodable.metadata.name = "mismatch";
    undecodable.decode_error = "data[tls.crt] is not base64";
    in.secrets[1] = std::make_shared<const crds::Secret>(undecodable);
    in.last_good_secrets[{"web", "mismatch"}] = secret("mismatch", other.cert_pem, other.key_pem);
    auto kept = compileRoutes(in);
    CHECK(kept.table.certificateFor("c.example") >= 0);
    CHECK(kept.problems[0].kind == ProblemKind::InvalidTlsSecret);
    CHECK(kept.problems[0].message ==
          "TLS Secret web/mismatch cannot be decoded: data[tls.crt] is not base64; the last "
          "valid certificate stays in service");
  }
}

TEST_CASE("compile: a certificate that does not cover a TLS host is served, with a warning") {
  auto cert = testing::makeCertificate({"a.example", "*.b.example"});
  crds::Secret s;
  s.metadata.namespace_ = "web";
  s.metadata.name = "tls";
  s.type = crds::kTlsSecretType;
  s.data = {{"tls.crt", cert.cert_pem}, {"tls.key", cert.key_pem}};
  auto in = baseInputs();
  in.secrets = {std::make_shared<const crds::Secret>(s)};
  in.ingresses = {ingress("web", "i", "2026-01-01T00:00:00Z",
                          R"({"tls":[{"hosts":["a.example","x.b.example","y.x.b.example",
                                                "other.example"],"secretName":"tls"}],
                              "rules":[)" +
                              rule("a.example", "/", "site") + "]}")};
  auto out = compileRoutes(in);
  CHECK(out.table.certificateFor("other.example") == 0);  // served all the same
  std::vector<std::string> hosts;
  for (const auto& p : out.problems) {
    CHECK(p.kind == ProblemKind::TlsHostNotCovered);
    hosts.push_back(p.host);
  }
  // A wildcard covers one label only (RFC 6125 §6.4.3).
  CHECK(hosts == std::vector<std::string>{"y.x.b.example", "other.example"});
  REQUIRE_FALSE(out.problems.empty());
  CHECK(out.problems.back().message ==
        "the certificate of TLS Secret web/tls does not cover host other.example (its names: "
        "a.example, *.b.example); clients will reject it for that host");
}
