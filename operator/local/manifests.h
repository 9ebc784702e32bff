// Kubernetes manifests on disk → JSON objects: every *.yaml, *.yml and *.json file in a
// directory (sorted, not recursive), multi-document YAML, objects without a namespace placed in
// `default` (cluster-scoped kinds excepted). Used by `portico snapshot compile`, `explain` and
// `portico local`. Errors name the file and document.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "operator/base/status.h"

namespace portico::local {

struct ManifestObject {
  nlohmann::json object;
  std::string origin;  // "dir/file.yaml#2" (document index from 1)
  std::string kind() const { return object.value("kind", ""); }
};

// YAML text (one or more documents) → JSON objects. Scalars follow the YAML 1.1 core types
// Kubernetes uses: plain true/false, integers, floats and null are typed; quoted are strings.
Expected<std::vector<nlohmann::json>> parseYamlDocuments(const std::string& text);

Expected<std::vector<ManifestObject>> loadManifestDir(const std::string& dir);
// The manifest files of a directory, sorted (dot files skipped: editors' temporaries).
Expected<std::vector<std::string>> listManifestFiles(const std::string& dir);
Expected<std::vector<ManifestObject>> loadManifestFile(const std::string& file);
// The objects of one file's text (`file` names them in errors and origins).
Expected<std::vector<ManifestObject>> parseManifestText(const std::string& text,
                                                        const std::string& file);

bool isClusterScopedKind(const std::string& kind);

}  // namespace portico::local
