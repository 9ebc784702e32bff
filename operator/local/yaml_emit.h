// JSON → YAML text (block style, keys in JSON order), for the state directory's files.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace portico::local {

std::string toYaml(const nlohmann::json& value);

}  // namespace portico::local
