#include "crds/secret.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

#include "operator/base/base64.h"

namespace portico::crds {

void from_json(const Json& j, Secret& out) {
  out = Secret{};
  out.metadata = j.value("metadata", Json::object()).get<ObjectMeta>();
  out.type = j.value("type", "Opaque");
  const Json data = j.value("data", Json::object());  // items() must not outlive its object
  for (const auto& [key, value] : data.items()) {
    if (!value.is_string()) throw std::invalid_argument("data." + key + " is not a string");
    auto decoded = base64Decode(value.get<std::string>());
    if (!decoded) throw std::invalid_argument("data." + key + " is not valid base64");
    out.data[key] = std::move(*decoded);
  }
  // stringData is a write-only convenience; manifests (portico local) may use it.
  const Json string_data = j.value("stringData", Json::object());
  for (const auto& [key, value] : string_data.items())
    if (value.is_string()) out.data[key] = value.get<std::string>();
}

void to_json(Json& j, const Secret& in) {
  j = Json{{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", in.metadata}, {"type", in.type}};
  j["data"] = Json::object();
  for (const auto& [key, value] : in.data) j["data"][key] = base64Encode(value);
}

}  // namespace portico::crds
