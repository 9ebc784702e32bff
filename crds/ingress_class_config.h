// IngressClassConfig (portico.io/v1alpha1, cluster-scoped): the settings of one IngressClass,
// referenced from IngressClass.spec.parameters. This is the subset the data plane needs now;
// the CRD (crds/ingressclassconfig.yaml) arrives with the operator.
#pragma once

#include <optional>
#include <string>

#include "crds/meta.h"

namespace portico::crds {

inline constexpr const char* kPorticoGroup = "portico.io";

struct ListenerSettings {
  std::string address = "0.0.0.0";
  int32_t http_port = 80;
  int32_t https_port = 443;
};

struct IngressClassConfig {
  ObjectMeta metadata;
  ListenerSettings listeners;
  std::optional<ObjectKey> default_certificate;  // a kubernetes.io/tls Secret
  bool ssl_redirect = true;                      // hosts with a certificate redirect HTTP → HTTPS
};

// Throws std::invalid_argument naming the field for out-of-range ports.
void from_json(const Json& j, IngressClassConfig& out);
void to_json(Json& j, const IngressClassConfig& in);

}  // namespace portico::crds
