#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "controllers/selection/selection.h"

using namespace portico;
using namespace portico::controllers::selection;
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
