#include "crds/ingress_class_config.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace portico::crds {

namespace {
int32_t port(const Json& listeners, const char* name, int32_t fallback) {
  const Json listener = listeners.value(name, Json::object());
  int32_t value = listener.value("port", fallback);
  if (value < 1 || value > 65535)
    throw std::invalid_argument(std::string("spec.listeners.") + name +
                                ".port must be 1-65535, not " + std::to_string(value));
  return value;
}
}  // namespace

void from_json(const Json& j, IngressClassConfig& out) {
  out = IngressClassConfig{};
  out.metadata = j.value("metadata", Json::object()).get<ObjectMeta>();
  const Json spec = j.value("spec", Json::object());
  const Json listeners = spec.value("listeners", Json::object());
  out.listeners.address = listeners.value("address", "0.0.0.0");
  out.listeners.http_port = port(listeners, "http", 80);
  out.listeners.https_port = port(listeners, "https", 443);
  if (auto d = spec.find("defaultCertificate"); d != spec.end() && d->is_object())
    out.default_certificate = ObjectKey{d->value("namespace", "default"), d->value("name", "")};
  out.ssl_redirect = spec.value("sslRedirect", true);
}

void to_json(Json& j, const IngressClassConfig& in) {
  j = Json{{"apiVersion", "portico.io/v1alpha1"},
           {"kind", "IngressClassConfig"},
           {"metadata", in.metadata}};
  j["spec"]["listeners"] = {{"address", in.listeners.address},
                            {"http", {{"port", in.listeners.http_port}}},
                            {"https", {{"port", in.listeners.https_port}}}};
  if (in.default_certificate)
    j["spec"]["defaultCertificate"] = {{"namespace", in.default_certificate->namespace_},
                                       {"name", in.default_certificate->name}};
  j["spec"]["sslRedirect"] = in.ssl_redirect;
}

}  // namespace portico::crds
