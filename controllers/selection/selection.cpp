#include "controllers/selection/selection.h"

#include <algorithm>

#include "controllers/selection/class_selection.h"

namespace portico::controllers::selection {

ServedClass chooseServedClass(
    const std::vector<std::shared_ptr<const crds::IngressClass>>& classes,
    const std::vector<std::shared_ptr<const crds::IngressClassConfig>>& configs,
    const SelectionOptions& options) {
  ServedClass out;
  std::shared_ptr<const crds::IngressClass> first, marked_default;
  for (const auto& c : classes) {
    if (c->controller != options.controller) continue;
    if (!options.ingress_class.empty()) {
      if (c->metadata.name == options.ingress_class) first = c;
      continue;
    }
    if (!first || c->metadata.name < first->metadata.name) first = c;
    if (c->isDefault() && (!marked_default || c->metadata.name < marked_default->metadata.name))
      marked_default = c;
  }
  out.ingress_class = marked_default ? marked_default : first;
  if (!out.ingress_class) return out;
  out.name = out.ingress_class->metadata.name;

  const auto& params = out.ingress_class->parameters;
  if (!params) return out;
  if (params->api_group != crds::kPorticoGroup || params->kind != "IngressClassConfig") {
    out.config_problem = "spec.parameters refers to " + params->kind + "." + params->api_group +
                         "; Portico reads only IngressClassConfig.portico.io";
    return out;
  }
  for (const auto& config : configs) {
    if (config->metadata.name != params->name) continue;
    out.config = config;
    out.config_errors = crds::validate(config->spec);
    if (!out.config_errors.empty()) {
      out.config_problem = "IngressClassConfig " + params->name + " is invalid: ";
      for (size_t i = 0; i < out.config_errors.size(); ++i)
        out.config_problem += (i ? "; " : "") + out.config_errors[i];
    }
    return out;
  }
  out.config_problem = "IngressClassConfig " + params->name + " not found";
  return out;
}

Selection selectIngresses(
    const std::vector<std::shared_ptr<const crds::Ingress>>& ingresses,
    const std::vector<std::shared_ptr<const crds::IngressClass>>& classes,
    const std::vector<std::shared_ptr<const crds::IngressClassConfig>>& configs,
    const SelectionOptions& options) {
  Selection out;
  out.served = chooseServedClass(classes, configs, options);
  for (const auto& ingress : ingresses) {
    auto cls = servingClass(*ingress, classes, options.controller);
    if (cls && !out.served.name.empty() && *cls == out.served.name)
      out.ingresses.push_back(ingress);
    else
      out.other_classes.push_back(ingress->metadata.key());
  }
  std::sort(out.ingresses.begin(), out.ingresses.end(),
            [](const auto& a, const auto& b) { return a->metadata.key() < b->metadata.key(); });
  std::sort(out.other_classes.begin(), out.other_classes.end());
  return out;
}

std::set<ObjectKey> referencedSecrets(const Selection& selection,
                                      const std::optional<ObjectKey>& default_certificate) {
  std::set<ObjectKey> out;
  for (const auto& ingress : selection.ingresses)
    for (const auto& tls : ingress->spec.tls)
      if (!tls.secret_name.empty()) out.insert({ingress->metadata.namespace_, tls.secret_name});
  if (default_certificate && !default_certificate->name.empty()) out.insert(*default_certificate);
  return out;
}

}  // namespace portico::controllers::selection
