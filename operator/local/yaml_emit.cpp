#include "operator/local/yaml_emit.h"

#include <yaml-cpp/yaml.h>

namespace portico::local {

namespace {
void emit(YAML::Emitter& out, const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key << key << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      break;
    case nlohmann::json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& item : value) emit(out, item);
      out << YAML::EndSeq;
      break;
    case nlohmann::json::value_t::string:
      // Always quoted: "true", "80" or "null" must come back as strings.
      out << YAML::DoubleQuoted << value.get_ref<const std::string&>();
      break;
    case nlohmann::json::value_t::boolean: out << value.get<bool>(); break;
    case nlohmann::json::value_t::number_integer: out << value.get<int64_t>(); break;
    case nlohmann::json::value_t::number_unsigned: out << value.get<uint64_t>(); break;
    case nlohmann::json::value_t::number_float: out << value.get<double>(); break;
    default: out << YAML::Null; break;
  }
}
}  // namespace

std::string toYaml(const nlohmann::json& value) {
  YAML::Emitter out;
  emit(out, value);
  return std::string(out.c_str()) + "\n";
}

}  // namespace portico::local
