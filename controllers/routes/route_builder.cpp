#include "controllers/routes/route_builder.h"

#include "controllers/routes/class_settings.h"
#include "operator/base/log.h"
#include "operator/base/pem.h"

namespace portico::controllers::routes {

RouteBuilder::RouteBuilder(RouteBuilderOptions options, SecretSource& secrets, const Clock& clock,
                           std::function<void(const ObjectKey&)> on_unserved_config)
    : options_(std::move(options)),
      secrets_(secrets),
      clock_(clock),
      on_unserved_config_(std::move(on_unserved_config)) {}

std::string RouteBuilder::unservedConfig() const {
  MutexLock lock(unserved_mutex_);
  return unserved_config_;
}

std::optional<crds::IngressClassConfigSpec> RouteBuilder::classSettings(
    const selection::ServedClass& served, BuiltRoutes& out) {
  const bool new_problem = served.config_problem != last_config_problem_;
  last_config_problem_ = served.config_problem;
  if (served.config && served.config_errors.empty()) {
    last_good_spec_ = served.config->spec;
    last_good_generation_ = served.config->metadata.generation;
    out.applied_config_generation = last_good_generation_;
    return last_good_spec_;
  }
  if (served.config_problem.empty()) return crds::IngressClassConfigSpec{};  // built-in defaults
  if (last_good_spec_) {
    // Told once per new problem (status and an Event carry it too), not on every build.
    if (new_problem)
      log::warn("IngressClass settings not applied",
                {{"ingressClass", served.name}, {"reason", served.config_problem}});
    out.applied_config_generation = last_good_generation_;
    return last_good_spec_;
  }
  if (new_problem) {
    log::error("no valid IngressClassConfig yet: nothing is served until it is fixed",
               {{"ingressClass", served.name}, {"reason", served.config_problem}});
    if (served.config) {
      {
        MutexLock lock(unserved_mutex_);
        unserved_config_ = served.config->metadata.name;
      }
      if (on_unserved_config_) on_unserved_config_(served.config->metadata.key());
    }
  }
  return std::nullopt;
}

void RouteBuilder::rememberServableSecrets(
    const std::vector<std::shared_ptr<const crds::Secret>>& secrets) {
  // Secrets no longer wanted are forgotten with their last good version.
  std::map<ObjectKey, std::shared_ptr<const crds::Secret>> still_wanted;
  for (const auto& secret : secrets) {
    const ObjectKey key = secret->metadata.key();
    const std::string* crt = secret->find("tls.crt");
    const std::string* key_pem = secret->find("tls.key");
    if (crt && key_pem && checkTlsPair(*crt, *key_pem, clock_.now()))
      last_good_secrets_[key] = secret;
    if (auto it = last_good_secrets_.find(key); it != last_good_secrets_.end())
      still_wanted.insert(*it);
  }
  last_good_secrets_ = std::move(still_wanted);
}

BuiltRoutes RouteBuilder::build(const RouteSources& sources) {
  BuiltRoutes out;
  auto selected = selection::selectIngresses(sources.ingresses, sources.classes, sources.configs,
                                             options_.selection);
  auto spec = classSettings(selected.served, out);
  if (!spec) return out;  // not ready
  out.applied_spec = spec;

  RouteInputs inputs;
  applyClassSettings(*spec, inputs);
  secrets_.setWanted(selection::referencedSecrets(selected, spec->default_certificate));
  if (!secrets_.settled() && !sources.published) {
    const auto now = clock_.steadyNow();
    if (!unsettled_since_) unsettled_since_ = now;
    if (now - *unsettled_since_ < options_.secret_grace) return out;  // not ready: wait
  }
  inputs.ingresses = selected.ingresses;
  inputs.services = sources.services;
  inputs.endpoint_slices = sources.endpoint_slices;
  inputs.secrets = secrets_.secrets();
  rememberServableSecrets(inputs.secrets);
  inputs.last_good_secrets = last_good_secrets_;
  // Pending HTTP-01 challenges of every Certificate: any replica may get the CA's request.
  for (const auto& cert : sources.certificates)
    if (cert->status.order)
      for (const auto& challenge : cert->status.order->challenges)
        inputs.acme_tokens[challenge.token] = challenge.key_authorization;
  inputs.now = clock_.now();
  out.compiled = compileRoutes(inputs);
  for (const auto& ingress : selected.ingresses) out.ingresses.insert(ingress->metadata.key());
  out.served = selected.served;
  out.ready = true;
  return out;
}

}  // namespace portico::controllers::routes
