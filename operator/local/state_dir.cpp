#include "operator/local/state_dir.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "operator/local/kinds.h"
#include "operator/local/manifests.h"
#include "operator/local/yaml_emit.h"

namespace portico::local {

namespace fs = std::filesystem;

std::string StateDir::pathOf(const kube::Resource& resource, const ObjectKey& key) const {
  std::string folder = resource.resource + "." + (resource.group.empty() ? "core" : resource.group);
  std::string ns = resource.namespaced ? key.namespace_ : "_cluster";
  return dir_ + "/" + folder + "/" + ns + "/" + key.name + ".yaml";
}

Status StateDir::write(const kube::Resource& resource, const nlohmann::json& object) {
  const auto& meta = object.at("metadata");
  ObjectKey key{meta.value("namespace", ""), meta.value("name", "")};
  fs::path path = pathOf(resource, key);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Status(ErrorCode::Internal, path.parent_path().string() + ": " + ec.message());
  fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    if (!out) return Status(ErrorCode::Internal, temporary.string() + ": cannot be written");
    out << toYaml(object);
    if (!out.flush()) return Status(ErrorCode::Internal, temporary.string() + ": write failed");
  }
  // Secrets hold private keys: owner-only, like the snapshot file.
  ::chmod(temporary.c_str(), resource.resource == "secrets" ? 0600 : 0644);
  fs::rename(temporary, path, ec);
  if (ec) return Status(ErrorCode::Internal, path.string() + ": " + ec.message());
  return Status::ok();
}

Status StateDir::remove(const kube::Resource& resource, const ObjectKey& key) {
  std::error_code ec;
  fs::remove(pathOf(resource, key), ec);
  if (ec) return Status(ErrorCode::Internal, pathOf(resource, key) + ": " + ec.message());
  return Status::ok();
}

Expected<std::vector<std::pair<kube::Resource, nlohmann::json>>> StateDir::loadAll() const {
  std::vector<std::pair<kube::Resource, nlohmann::json>> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  for (const auto& entry : fs::recursive_directory_iterator(dir_, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
    auto objects = loadManifestFile(entry.path().string());
    if (!objects) return objects.error();
    for (auto& m : *objects) {
      auto resource = resourceFor(m.object.value("apiVersion", ""), m.kind());
      if (!resource)
        return Status(ErrorCode::InvalidArgument, m.origin + ": " + resource.error().message());
      out.emplace_back(*resource, std::move(m.object));
    }
  }
  return out;
}

}  // namespace portico::local
