#include "operator/local/state_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "operator/base/object_names.h"
#include "operator/local/kinds.h"
#include "operator/local/manifests.h"
#include "operator/local/yaml_emit.h"

namespace portico::local {

namespace fs = std::filesystem;

namespace {

Status errnoStatus(const std::string& what, int error) {
  return Status(ErrorCode::Internal, what + ": " + std::strerror(error));
}

// Writes `data` to a new file `path` created with `mode` (never through a link), synced.
Status writeNewFile(const std::string& path, const std::string& data, mode_t mode) {
  // Whatever holds the name (a leftover, or a link planted to redirect the write) goes first;
  // O_EXCL then creates a fresh file, with the final mode from the first byte.
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return errnoStatus(path, errno);
  ::fchmod(fd, mode);  // O_CREAT's mode is masked by the umask
  size_t written = 0;
  while (written < data.size()) {
    ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(path.c_str());
      return errnoStatus(path, error);
    }
    written += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0) {
    int error = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return errnoStatus(path, error);
  }
  if (::close(fd) != 0) {
    int error = errno;
    ::unlink(path.c_str());
    return errnoStatus(path, error);
  }
  return Status::ok();
}

}  // namespace

Expected<std::string> StateDir::pathOf(const kube::Resource& resource, const ObjectKey& key) const {
  if (auto invalid = invalidObjectKey(key, resource.namespaced))
    return Status(ErrorCode::InvalidArgument, resource.resource + ": " + *invalid);
  std::string folder = resource.resource + "." + (resource.group.empty() ? "core" : resource.group);
  std::string ns = resource.namespaced ? key.namespace_ : "_cluster";
  return dir_ + "/" + folder + "/" + ns + "/" + key.name + ".yaml";
}

Status StateDir::write(const kube::Resource& resource, const nlohmann::json& object) {
  const auto& meta = object.at("metadata");
  ObjectKey key{resource.namespaced ? meta.value("namespace", "") : "", meta.value("name", "")};
  auto path = pathOf(resource, key);
  if (!path) return path.error();
  fs::path file = *path;
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) return Status(ErrorCode::Internal, file.parent_path().string() + ": " + ec.message());
  std::string temporary = file.string() + ".tmp";
  // Secrets hold private keys: owner-only, like the snapshot file.
  mode_t mode = resource.resource == "secrets" ? 0600 : 0644;
  if (Status st = writeNewFile(temporary, toYaml(object), mode); !st) return st;
  if (::rename(temporary.c_str(), file.c_str()) != 0) {
    int error = errno;
    ::unlink(temporary.c_str());
    return errnoStatus(file.string(), error);
  }
  return Status::ok();
}

Status StateDir::remove(const kube::Resource& resource, const ObjectKey& key) {
  auto path = pathOf(resource, key);
  if (!path) return path.error();
  if (::unlink(path->c_str()) != 0 && errno != ENOENT) return errnoStatus(*path, errno);
  return Status::ok();
}

Expected<std::vector<std::pair<kube::Resource, nlohmann::json>>> StateDir::loadAll() const {
  std::vector<std::pair<kube::Resource, nlohmann::json>> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  std::vector<fs::path> leftovers;
  for (const auto& entry : fs::recursive_directory_iterator(dir_, ec)) {
    if (!entry.is_regular_file()) continue;
    if (entry.path().extension() == ".tmp") leftovers.push_back(entry.path());
    if (entry.path().extension() != ".yaml") continue;
    auto objects = loadManifestFile(entry.path().string());
    if (!objects) return objects.error();
    for (auto& m : *objects) {
      auto resource = resourceFor(m.object.value("apiVersion", ""), m.kind());
      if (!resource)
        return Status(ErrorCode::InvalidArgument, m.origin + ": " + resource.error().message());
      out.emplace_back(*resource, std::move(m.object));
    }
  }
  for (const auto& leftover : leftovers) fs::remove(leftover, ec);
  return out;
}

}  // namespace portico::local
