#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "controllers/ingress/selection.h"
#include "controllers/ingress/status.h"

using namespace portico;
using namespace portico::controllers::ingress;
using crds::Json;

namespace {
using ClassPtr = std::shared_ptr<const crds::IngressClass>;
using ConfigPtr = std::shared_ptr<const crds::IngressClassConfig>;
using IngressPtr = std::shared_ptr<const crds::Ingress>;

ClassPtr cls(const std::string& name, const std::string& controller, bool is_default = false,
             const std::string& config = "", const std::string& kind = "IngressClassConfig") {
  Json j = {{"metadata", {{"name", name}}}, {"spec", {{"controller", controller}}}};
  if (is_default)
    j["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"] = "true";
  if (!config.empty())
    j["spec"]["parameters"] = {{"apiGroup", "portico.io"}, {"kind", kind}, {"name", config}};
  return std::make_shared<const crds::IngressClass>(j.get<crds::IngressClass>());
}
ConfigPtr config(const std::string& name, Json spec = Json::object()) {
  Json j = {{"metadata", {{"name", name}, {"generation", 3}}}, {"spec", spec}};
  return std::make_shared<const crds::IngressClassConfig>(j.get<crds::IngressClassConfig>());
}
IngressPtr ingress(const std::string& name, const std::string& class_name,
                   const std::string& tls_secret = "") {
  Json j = {{"metadata", {{"name", name}, {"namespace", "shop"}}}, {"spec", Json::object()}};
  if (!class_name.empty()) j["spec"]["ingressClassName"] = class_name;
  if (!tls_secret.empty())
    j["spec"]["tls"] = Json::array({{{"hosts", {"a.test"}}, {"secretName", tls_secret}}});
  return std::make_shared<const crds::Ingress>(j.get<crds::Ingress>());
}
const std::string kOurs = crds::kPorticoController;
}  // namespace

TEST_CASE("served class: the flag, else ours marked default, else the first of ours by name") {
  std::vector<ClassPtr> classes = {cls("zeta", kOurs), cls("alpha", kOurs),
                                   cls("nginx", "k8s.io/ingress-nginx", true)};
  SUBCASE("first of ours by name") {
    CHECK(chooseServedClass(classes, {}, {}).name == "alpha");
  }
  SUBCASE("ours marked default wins over the name order") {
    classes.push_back(cls("marked", kOurs, true));
    CHECK(chooseServedClass(classes, {}, {}).name == "marked");
  }
  SUBCASE("the flag names one") {
    CHECK(chooseServedClass(classes, {}, {kOurs, "zeta"}).name == "zeta");
  }
  SUBCASE("the flag naming another controller's class serves nothing") {
    CHECK(chooseServedClass(classes, {}, {kOurs, "nginx"}).name.empty());
  }
  SUBCASE("no class of ours") {
    CHECK(chooseServedClass({cls("nginx", "k8s.io/ingress-nginx")}, {}, {}).name.empty());
  }
}

TEST_CASE("served class: its IngressClassConfig, or why it is not used") {
  SUBCASE("found and valid") {
    auto served = chooseServedClass({cls("p", kOurs, false, "cfg")}, {config("cfg")}, {});
    REQUIRE(served.config);
    CHECK(served.config_problem.empty());
  }
  SUBCASE("missing") {
    auto served = chooseServedClass({cls("p", kOurs, false, "cfg")}, {config("other")}, {});
    CHECK_FALSE(served.config);
    CHECK(served.config_problem == "IngressClassConfig cfg not found");
  }
  SUBCASE("a parameters kind that is not ours") {
    auto served =
        chooseServedClass({cls("p", kOurs, false, "cfg", "ConfigMap")}, {config("cfg")}, {});
    CHECK(served.config_problem.find("Portico reads only IngressClassConfig") != std::string::npos);
  }
  SUBCASE("invalid: every field named") {
    auto served = chooseServedClass({cls("p", kOurs, false, "cfg")},
                                    {config("cfg", {{"listeners", {{"http", {{"port", 0}}}}},
                                                    {"tls", {{"minVersion", "TLSv1.0"}}}})},
                                    {});
    REQUIRE(served.config);
    CHECK(served.config_errors.size() == 2);
    CHECK(served.config_problem.find("spec.listeners.http.port") != std::string::npos);
    CHECK(served.config_problem.find("spec.tls.minVersion") != std::string::npos);
  }
}

TEST_CASE("selection: our class's Ingresses, others left alone; referenced Secrets only") {
  std::vector<ClassPtr> classes = {cls("portico", kOurs, true),
                                   cls("nginx", "k8s.io/ingress-nginx")};
  std::vector<IngressPtr> ingresses = {ingress("b", "portico", "b-tls"), ingress("a", ""),
                                       ingress("c", "nginx", "c-tls"), ingress("d", "unknown")};
  auto selection = selectIngresses(ingresses, classes, {}, {});
  REQUIRE(selection.ingresses.size() == 2);
  CHECK(selection.ingresses[0]->metadata.name == "a");  // no class: the default class is ours
  CHECK(selection.ingresses[1]->metadata.name == "b");
  CHECK(selection.other_classes == std::vector<ObjectKey>{{"shop", "c"}, {"shop", "d"}});
  auto secrets = referencedSecrets(selection, ObjectKey{"portico-system", "default-cert"});
  CHECK(secrets == std::set<ObjectKey>{{"shop", "b-tls"}, {"portico-system", "default-cert"}});
}

TEST_CASE(
    "status.loadBalancer: fixed addresses, else the publish Service, else a specific listener IP") {
  crds::IngressClassConfigSpec spec;
  crds::Service service;
  service.status_load_balancer = {{"203.0.113.7", ""}};
  SUBCASE("wildcard listener address publishes nothing") {
    spec.listeners.address = "0.0.0.0";
    CHECK(desiredLoadBalancer(spec, nullptr).empty());
    spec.listeners.address = "::";
    CHECK(desiredLoadBalancer(spec, nullptr).empty());
  }
  SUBCASE("a specific listener IP") {
    spec.listeners.address = "127.0.0.1";
    CHECK(desiredLoadBalancer(spec, nullptr) ==
          std::vector<crds::LoadBalancerIngress>{{"127.0.0.1", ""}});
  }
  SUBCASE("fixed addresses: IPs as ip, names as hostname") {
    spec.status_publishing.addresses = {"198.51.100.1", "lb.example.com", "2001:db8::1"};
    CHECK(desiredLoadBalancer(spec, &service) ==
          std::vector<crds::LoadBalancerIngress>{
              {"198.51.100.1", ""}, {"", "lb.example.com"}, {"2001:db8::1", ""}});
  }
  SUBCASE("the publish Service's addresses; none until it has them") {
    spec.status_publishing.service = ObjectKey{"portico-system", "portico"};
    CHECK(desiredLoadBalancer(spec, &service) == service.status_load_balancer);
    CHECK(desiredLoadBalancer(spec, nullptr).empty());
  }
}

TEST_CASE(
    "class settings: listeners, TLS policy and the HSTS header value reach the route inputs") {
  crds::IngressClassConfigSpec spec;
  spec.listeners = {"127.0.0.1", 8080, 8443};
  spec.tls = {"TLSv1.3", "ECDHE+AESGCM", ""};
  controllers::routes::RouteInputs inputs;
  SUBCASE("HSTS off: no header") {
    applyClassSettings(spec, inputs);
    CHECK(inputs.listeners.hsts.empty());
    CHECK(inputs.listeners.tls_min_version == "TLSv1.3");
    CHECK(inputs.listeners.tls_ciphers == "ECDHE+AESGCM");
    CHECK(inputs.listeners.https_port == 8443);
  }
  SUBCASE("HSTS with every directive") {
    spec.hsts = {true, 3600, true, true};
    applyClassSettings(spec, inputs);
    CHECK(inputs.listeners.hsts == "max-age=3600; includeSubDomains; preload");
  }
}
