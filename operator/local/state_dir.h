// The state directory of `portico local`: what the operator writes (status, Secrets, Events)
// as YAML, one file per object: <dir>/<resource>.<group>/<namespace>/<name>.yaml (cluster-scoped
// objects under "_cluster"). Files are written to a temporary name and renamed, so a reader never
// sees half a file; Secrets are mode 0600.
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
  // Every stored object, with the resource it belongs to.
  Expected<std::vector<std::pair<kube::Resource, nlohmann::json>>> loadAll() const;
  std::string pathOf(const kube::Resource& resource, const ObjectKey& key) const;
  const std::string& dir() const { return dir_; }

private:
  std::string dir_;
};

}  // namespace portico::local
