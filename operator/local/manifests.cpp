#include "operator/local/manifests.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

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

namespace {

struct YamlDocument {
  std::string text;
  int first_line = 0;  // 0-based line of the stream where the document starts
};

// Whether a chunk of a stream holds nothing but directives, comments and blank lines.
bool onlyDirectives(std::string_view text) {
  bool any_directive = false;
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    auto first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos) {
      if (line[0] == '%')
        any_directive = true;
      else if (line[first] != '#')
        return false;
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return any_directive;
}

// Whether a document holds nothing (markers, comments, directives, blank lines) or only an
// explicit null.
bool nullDocument(std::string_view text) {
  std::string content;
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (line.substr(0, 3) == "---" || line.substr(0, 3) == "...") line.remove_prefix(3);
    if (!line.empty() && line.front() == '%') line = {};
    if (auto hash = line.find(" #"); hash != std::string_view::npos) line = line.substr(0, hash);
    if (!line.empty() && line.front() == '#') line = {};
    for (char c : line)
      if (c != ' ' && c != '\t' && c != '\r') content += c;
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return content.empty() || content == "~" || content == "null" || content == "Null" ||
         content == "NULL";
}

// Splits a YAML stream at its document markers: a line "---" (alone or followed by a space and
// content) starts a document, a line "..." ends one (YAML 1.2 §9.1; a marker at column 0 ends
// a block scalar too). yaml-cpp's own LoadAll is not used: version 0.7 loops forever on a
// stray "," at document level (found by tests/fuzz/manifest_fuzz).
std::vector<YamlDocument> splitDocuments(const std::string& text) {
  std::vector<YamlDocument> docs(1);
  int line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool starts =
        line.substr(0, 3) == "---" && (line.size() == 3 || line[3] == ' ' || line[3] == '\t');
    bool ends =
        line.substr(0, 3) == "..." && (line.size() == 3 || line[3] == ' ' || line[3] == '\t');
    if (starts || ends) {
      // Directives ("%YAML 1.2") before a "---" belong to the document it starts.
      std::string carried;
      if (starts && onlyDirectives(docs.back().text)) carried.swap(docs.back().text);
      int first = carried.empty() ? line_number + (starts ? 0 : 1) : docs.back().first_line;
      if (!carried.empty()) docs.pop_back();
      docs.push_back({std::move(carried), first});
      // The marker line stays ("--- {a: 1}" or "--- |" carries content): each document is
      // loaded alone, so an explicit start is fine.
      if (starts) docs.back().text.append(line).append("\n");
    } else {
      docs.back().text.append(line).append("\n");
    }
    pos = end + 1;
    ++line_number;
  }
  return docs;
}

}  // namespace

Expected<std::vector<json>> parseYamlDocuments(const std::string& text) {
  std::vector<json> out;
  for (const auto& document : splitDocuments(text)) {
    try {
      YAML::Node doc = YAML::Load(document.text);
      if (doc.IsNull()) {
        // An empty document between "---" lines, or an explicit null; anything else that
        // loads as nothing (yaml-cpp takes a stray "," so) is an error, not silence.
        if (!nullDocument(document.text))
          return Status(
              ErrorCode::InvalidArgument,
              "line " + std::to_string(document.first_line + 1) + ": not a YAML document");
        continue;
      }
      json value = toJson(doc);
      // A List (kubectl get -o yaml) holds its objects in items.
      // (`kind: ` with no value is null: value("kind", "") would throw, found by the fuzzer.)
      auto kind = value.is_object() ? value.find("kind") : value.end();
      auto items = value.is_object() ? value.find("items") : value.end();
      if (kind != value.end() && kind->is_string() && *kind == "List" && items != value.end() &&
          items->is_array()) {
        for (auto& item : *items) out.push_back(std::move(item));
      } else {
        out.push_back(std::move(value));
      }
    } catch (const YAML::Exception& e) {
      return Status(ErrorCode::InvalidArgument,
                    "line " + std::to_string(document.first_line + e.mark.line + 1) + ": " + e.msg);
    }
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
  return parseManifestText(ss.str(), file);
}

Expected<std::vector<ManifestObject>> parseManifestText(const std::string& text,
                                                        const std::string& file) {
  // JSON is YAML, so one parser serves both.
  auto docs = parseYamlDocuments(text);
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
