#include "controllers/ingress/selection.h"

#include <algorithm>

#include "controllers/ingress/class_selection.h"

namespace portico::controllers::ingress {

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

void applyClassSettings(const crds::IngressClassConfigSpec& spec, routes::RouteInputs& inputs) {
  inputs.listeners.address = spec.listeners.address;
  inputs.listeners.http_port = static_cast<uint16_t>(spec.listeners.http_port);
  inputs.listeners.https_port = static_cast<uint16_t>(spec.listeners.https_port);
  inputs.listeners.tls_min_version = spec.tls.min_version;
  inputs.listeners.tls_ciphers = spec.tls.ciphers;
  inputs.listeners.tls_cipher_suites = spec.tls.cipher_suites;
  inputs.listeners.hsts.clear();
  if (spec.hsts.enabled) {
    inputs.listeners.hsts = "max-age=" + std::to_string(spec.hsts.max_age_seconds);
    if (spec.hsts.include_subdomains) inputs.listeners.hsts += "; includeSubDomains";
    if (spec.hsts.preload) inputs.listeners.hsts += "; preload";
  }
  proxy::ClassProxySettings& tuning = inputs.listeners.proxy;
  tuning.present = true;
  tuning.header_timeout_seconds = static_cast<uint32_t>(spec.proxy.header_timeout_seconds);
  tuning.idle_timeout_seconds = static_cast<uint32_t>(spec.proxy.idle_timeout_seconds);
  tuning.connect_timeout_seconds = static_cast<uint32_t>(spec.proxy.connect_timeout_seconds);
  tuning.upstream_timeout_seconds = static_cast<uint32_t>(spec.proxy.upstream_timeout_seconds);
  tuning.max_head_bytes = static_cast<uint64_t>(spec.proxy.max_header_bytes);
  tuning.max_body_bytes = static_cast<uint64_t>(spec.proxy.max_body_bytes);
  tuning.access_log = spec.proxy.access_log;
  tuning.server_header = spec.proxy.server_header;
  inputs.default_certificate = spec.default_certificate;
  inputs.ssl_redirect_default = spec.ssl_redirect;
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

}  // namespace portico::controllers::ingress
