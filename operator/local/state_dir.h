// The state directory of `portico local`: what the operator writes (status, Secrets, Events)
// as YAML, one file per object: <dir>/<resource>.<group>/<namespace>/<name>.yaml (cluster-scoped
// objects under "_cluster"). Names and namespaces must be DNS names (as the API server demands),
// so no object can name a path outside the directory. A file is written to a temporary name
// created with its final mode (Secrets 0600 from the first byte), synced, then renamed: a reader
// never sees half a file, and a full filesystem leaves the previous file as it was.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "operator/base/status.h"
#include "operator/kube/resource.h"

namespace portico::local {

class StateDir {
public:
  explicit StateDir(std::string dir) : dir_(std::move(dir)) {}

  Status write(const kube::Resource& resource, const nlohmann::json& object);
  Status remove(const kube::Resource& resource, const ObjectKey& key);
  // Every stored object, with the resource it belongs to. Temporary files a crash or a full
  // filesystem left behind are removed.
  Expected<std::vector<std::pair<kube::Resource, nlohmann::json>>> loadAll() const;
  // The file of an object; an error for a key that is no valid Kubernetes name.
  Expected<std::string> pathOf(const kube::Resource& resource, const ObjectKey& key) const;
  const std::string& dir() const { return dir_; }

private:
  std::string dir_;
};

}  // namespace portico::local
