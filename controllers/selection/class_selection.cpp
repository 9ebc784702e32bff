#include "controllers/selection/class_selection.h"

namespace portico::controllers::selection {

std::optional<std::string> servingClass(
    const crds::Ingress& ingress,
    const std::vector<std::shared_ptr<const crds::IngressClass>>& classes,
    const std::string& controller) {
  auto ours = [&](const std::string& name) -> std::optional<std::string> {
    for (const auto& c : classes)
      if (c->metadata.name == name && c->controller == controller) return name;
    return std::nullopt;
  };
  if (ingress.spec.ingress_class_name) return ours(*ingress.spec.ingress_class_name);
  std::string legacy = ingress.metadata.annotation(kLegacyClassAnnotation);
  if (!legacy.empty()) return ours(legacy);
  std::optional<std::string> chosen;
  for (const auto& c : classes)  // several defaults is a cluster mistake: take the first by name
    if (c->controller == controller && c->isDefault() && (!chosen || c->metadata.name < *chosen))
      chosen = c->metadata.name;
  return chosen;
}

}  // namespace portico::controllers::selection
