#include "operator/commands/offline_inputs.h"

#include <nlohmann/json.hpp>

#include "controllers/routes/class_settings.h"
#include "controllers/selection/selection.h"
#include "crds/ingress_class_config.h"

namespace portico::commands {

namespace routes = controllers::routes;
namespace selection = controllers::selection;

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

  auto selected = selection::selectIngresses(ingresses, classes, configs, {});
  if (!selected.served.config_problem.empty())
    return Status(ErrorCode::InvalidArgument,
                  "IngressClass " + selected.served.name + ": " + selected.served.config_problem);
  out.ingress_class = selected.served.name;
  out.inputs.ingresses = std::move(selected.ingresses);
  out.other_classes = std::move(selected.other_classes);
  if (selected.served.config) routes::applyClassSettings(selected.served.config->spec, out.inputs);
  return out;
}

}  // namespace portico::commands
