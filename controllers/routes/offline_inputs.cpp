#include "controllers/routes/offline_inputs.h"

#include <nlohmann/json.hpp>

#include "controllers/ingress/class_selection.h"
#include "crds/ingress_class_config.h"

namespace portico::controllers::routes {

namespace {

template <typename T>
Expected<std::shared_ptr<const T>> decodeObject(const local::ManifestObject& m) {
  try {
    return std::make_shared<const T>(m.object.get<T>());
  } catch (const std::exception& e) {
    const auto& meta = m.object.value("metadata", nlohmann::json::object());
    std::string key = meta.value("namespace", "");
    key += (key.empty() ? "" : "/") + meta.value("name", std::string("?"));
    return Status(ErrorCode::InvalidArgument,
                  m.origin + ": " + m.kind() + " " + key + ": " + e.what());
  }
}

}  // namespace

Expected<OfflineInputs> inputsFromManifests(const std::vector<local::ManifestObject>& objects,
                                            std::chrono::system_clock::time_point now) {
  OfflineInputs out;
  out.inputs.now = now;
  std::vector<std::shared_ptr<const crds::Ingress>> ingresses;
  std::vector<std::shared_ptr<const crds::IngressClass>> classes;
  std::vector<std::shared_ptr<const crds::IngressClassConfig>> configs;

#define PORTICO_DECODE_INTO(Type, vec)    \
  {                                       \
    auto decoded = decodeObject<Type>(m); \
    if (!decoded) return decoded.error(); \
    vec.push_back(std::move(*decoded));   \
  }
  for (const auto& m : objects) {
    const std::string kind = m.kind();
    if (kind == "Ingress")
      PORTICO_DECODE_INTO(crds::Ingress, ingresses)
    else if (kind == "IngressClass")
      PORTICO_DECODE_INTO(crds::IngressClass, classes)
    else if (kind == "IngressClassConfig")
      PORTICO_DECODE_INTO(crds::IngressClassConfig, configs)
    else if (kind == "Service")
      PORTICO_DECODE_INTO(crds::Service, out.inputs.services)
    else if (kind == "EndpointSlice")
      PORTICO_DECODE_INTO(crds::EndpointSlice, out.inputs.endpoint_slices)
    else if (kind == "Secret")
      PORTICO_DECODE_INTO(crds::Secret, out.inputs.secrets)
  }
#undef PORTICO_DECODE_INTO

  for (const auto& ingress : ingresses) {
    auto cls = ingress::servingClass(*ingress, classes);
    if (!cls) {
      out.other_classes.push_back(ingress->metadata.key());
      continue;
    }
    // One snapshot serves one class: the first of ours met (classes are few in practice).
    if (out.ingress_class.empty()) out.ingress_class = *cls;
    if (*cls == out.ingress_class)
      out.inputs.ingresses.push_back(ingress);
    else
      out.other_classes.push_back(ingress->metadata.key());
  }

  // The class's IngressClassConfig, through IngressClass.spec.parameters.
  for (const auto& c : classes) {
    if (c->metadata.name != out.ingress_class || !c->parameters) continue;
    if (c->parameters->api_group != crds::kPorticoGroup ||
        c->parameters->kind != "IngressClassConfig")
      continue;
    for (const auto& config : configs) {
      if (config->metadata.name != c->parameters->name) continue;
      out.inputs.listeners.address = config->listeners.address;
      out.inputs.listeners.http_port = static_cast<uint16_t>(config->listeners.http_port);
      out.inputs.listeners.https_port = static_cast<uint16_t>(config->listeners.https_port);
      out.inputs.default_certificate = config->default_certificate;
      out.inputs.ssl_redirect_default = config->ssl_redirect;
    }
  }
  return out;
}

}  // namespace portico::controllers::routes
