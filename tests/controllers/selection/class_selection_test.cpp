#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "controllers/selection/class_selection.h"

using namespace portico;
using namespace portico::controllers::selection;
using crds::Json;

namespace {
std::shared_ptr<const crds::IngressClass> ingressClass(const std::string& name,
                                                       const std::string& controller,
                                                       bool is_default = false) {
  Json j = {{"metadata", {{"name", name}}}, {"spec", {{"controller", controller}}}};
  if (is_default)
    j["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"] = "true";
  return std::make_shared<const crds::IngressClass>(j.get<crds::IngressClass>());
}
crds::Ingress ing(const std::string& spec_class, const std::string& legacy) {
  Json j = {{"metadata", {{"name", "i"}}}, {"spec", Json::object()}};
  if (!spec_class.empty()) j["spec"]["ingressClassName"] = spec_class;
  if (!legacy.empty()) j["metadata"]["annotations"][kLegacyClassAnnotation] = legacy;
  return j.get<crds::Ingress>();
}
}  // namespace

TEST_CASE("class selection: ingressClassName, the legacy annotation, then the default class") {
  std::vector<std::shared_ptr<const crds::IngressClass>> classes = {
      ingressClass("portico", crds::kPorticoController),
      ingressClass("nginx", "k8s.io/ingress-nginx")};
  struct Row {
    const char* name;
    std::string spec_class, legacy;
    std::optional<std::string> expected;
  };
  const Row rows[] = {
      {"our class by name", "portico", "", "portico"},
      {"another controller's class", "nginx", "", std::nullopt},
      {"a class that does not exist", "ghost", "", std::nullopt},
      {"legacy annotation naming ours", "", "portico", "portico"},
      {"legacy annotation naming theirs", "", "nginx", std::nullopt},
      {"spec wins over the annotation", "nginx", "portico", std::nullopt},
      {"no class and no default class", "", "", std::nullopt},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      CHECK(servingClass(ing(row.spec_class, row.legacy), classes) == row.expected);
    }
  }
  SUBCASE("no class: our default class takes it; another's default does not") {
    CHECK(servingClass(ing("", ""), {ingressClass("portico", crds::kPorticoController, true)}) ==
          "portico");
    CHECK(servingClass(ing("", ""), {ingressClass("nginx", "k8s.io/ingress-nginx", true)}) ==
          std::nullopt);
  }
}
