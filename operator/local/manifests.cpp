#include "operator/local/manifests.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace portico::local {

namespace {

using nlohmann::json;

json scalarToJson(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: always a string
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL")
    return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (errno == 0 && end && *end == '\0' &&
        (std::isdigit(static_cast<unsigned char>(text[0])) ||
         ((text[0] == '-' || text[0] == '+') && text.size() > 1)))
      return v;
  }
  {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    bool looks_numeric = text.find_first_not_of("0123456789.eE+-") == std::string::npos &&
                         text.find_first_of("0123456789") != std::string::npos;
    if (end && *end == '\0' && looks_numeric) return v;
  }
  return text;
}

json toJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return scalarToJson(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(toJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& entry : node) out[entry.first.as<std::string>()] = toJson(entry.second);
      return out;
    }
  }
  return nullptr;
}

}  // namespace

bool isClusterScopedKind(const std::string& kind) {
  return kind == "IngressClass" || kind == "IngressClassConfig" || kind == "Namespace" ||
         kind == "ClusterRole" || kind == "ClusterRoleBinding" ||
         kind == "CustomResourceDefinition";
}

Expected<std::vector<json>> parseYamlDocuments(const std::string& text) {
  std::vector<json> out;
  try {
    for (const auto& doc : YAML::LoadAll(text)) {
      if (doc.IsNull()) continue;  // an empty document between "---" lines
      json value = toJson(doc);
      // A List (kubectl get -o yaml) holds its objects in items.
      if (value.is_object() && value.value("kind", "") == "List" && value.contains("items")) {
        for (auto& item : value["items"]) out.push_back(std::move(item));
      } else {
        out.push_back(std::move(value));
      }
    }
  } catch (const YAML::Exception& e) {
    return Status(ErrorCode::InvalidArgument,
                  "line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return out;
}

Expected<std::vector<std::string>> listManifestFiles(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status(ErrorCode::NotFound, dir + ": not a directory");
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto ext = entry.path().extension().string();
    auto name = entry.path().filename().string();
    if (!name.empty() && name[0] == '.') continue;  // editors' swap and temporary files
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json"))
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

Expected<std::vector<ManifestObject>> loadManifestFile(const std::string& file) {
  std::ifstream in(file);
  if (!in) return Status(ErrorCode::NotFound, file + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  // JSON is YAML, so one parser serves both.
  auto docs = parseYamlDocuments(ss.str());
  if (!docs) return Status(ErrorCode::InvalidArgument, file + ": " + docs.error().message());
  std::vector<ManifestObject> objects;
  int index = 0;
  for (auto& doc : *docs) {
    ++index;
    std::string origin = file + "#" + std::to_string(index);
    if (!doc.is_object() || !doc.contains("kind") || !doc.contains("apiVersion") ||
        !doc["kind"].is_string() || !doc["apiVersion"].is_string())
      return Status(ErrorCode::InvalidArgument,
                    origin + ": not a Kubernetes object (kind and apiVersion are required)");
    if (!doc["metadata"].is_object() || !doc["metadata"].contains("name") ||
        !doc["metadata"]["name"].is_string())
      return Status(ErrorCode::InvalidArgument, origin + ": metadata.name is required");
    if (!isClusterScopedKind(doc["kind"].get<std::string>()) &&
        !doc["metadata"].contains("namespace"))
      doc["metadata"]["namespace"] = "default";
    objects.push_back({std::move(doc), origin});
  }
  return objects;
}

Expected<std::vector<ManifestObject>> loadManifestDir(const std::string& dir) {
  auto files = listManifestFiles(dir);
  if (!files) return files.error();
  std::vector<ManifestObject> objects;
  for (const auto& file : *files) {
    auto loaded = loadManifestFile(file);
    if (!loaded) return loaded.error();
    for (auto& object : *loaded) objects.push_back(std::move(object));
  }
  return objects;
}

}  // namespace portico::local
