// Which IngressClass this process serves, its IngressClassConfig, and which Ingresses belong to
// it (pure). One process serves one class: the one named by --ingress-class, else our class
// marked default, else the first of ours by name. Both the live controllers (from informer
// caches) and the offline commands (from manifests) select through here.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crds/ingress.h"
#include "crds/ingress_class_config.h"
#include "operator/base/object_key.h"

namespace portico::controllers::selection {

struct SelectionOptions {
  std::string controller = crds::kPorticoController;
  std::string ingress_class;  // "" = automatic (see above)
};

struct ServedClass {
  std::string name;  // "" when no IngressClass of ours exists
  std::shared_ptr<const crds::IngressClass> ingress_class;
  std::shared_ptr<const crds::IngressClassConfig> config;  // null: the class has none
  // Why the config is not used ("" when it is): a parameters reference that is not an
  // IngressClassConfig, one that does not exist, or a spec that fails validation.
  std::string config_problem;
  std::vector<std::string> config_errors;  // validate()'s findings, one per field
};

struct Selection {
  ServedClass served;
  std::vector<std::shared_ptr<const crds::Ingress>> ingresses;  // ours, sorted by key
  std::vector<ObjectKey> other_classes;  // left alone: another controller's (or no) class
};

ServedClass chooseServedClass(
    const std::vector<std::shared_ptr<const crds::IngressClass>>& classes,
    const std::vector<std::shared_ptr<const crds::IngressClassConfig>>& configs,
    const SelectionOptions& options);

Selection selectIngresses(
    const std::vector<std::shared_ptr<const crds::Ingress>>& ingresses,
    const std::vector<std::shared_ptr<const crds::IngressClass>>& classes,
    const std::vector<std::shared_ptr<const crds::IngressClassConfig>>& configs,
    const SelectionOptions& options);

// The TLS Secrets the served Ingresses and the class reference: the only Secrets Portico reads.
std::set<ObjectKey> referencedSecrets(const Selection& selection,
                                      const std::optional<ObjectKey>& default_certificate);

}  // namespace portico::controllers::selection
