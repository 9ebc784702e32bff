#include "operator/local/manifest_sync.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "operator/base/log.h"
#include "operator/base/thread_annotations.h"
#include "operator/local/kinds.h"
#include "operator/local/unwritten_read.h"

namespace portico::local {

ManifestSync::ManifestSync(MemoryKubeClient& memory, std::string dir)
    : memory_(memory), dir_(std::move(dir)) {}

std::string ManifestSync::idOf(const kube::Resource& resource, const ObjectKey& key) const {
  return resource.toString() + " " + key.toString();
}

SyncReport ManifestSync::syncOnce() {
  MutexLock lock(mutex_);
  SyncReport report;
  auto files = listManifestFiles(dir_);
  if (!files) {
    report.errors.push_back(files.error().message());
    return report;  // the directory went away: keep serving what we have
  }

  std::map<std::string, std::map<std::string, Applied>> next;
  for (const auto& file : *files) {
    auto read = readUnlessBeingWritten(file);
    if (read.outcome == UnwrittenRead::Outcome::BeingWritten) {
      // Half written (perhaps just truncated): its previous objects stay until the writer
      // closes it, which the watcher reports as another change.
      if (auto it = by_file_.find(file); it != by_file_.end()) next[file] = it->second;
      ++report.being_written;
      continue;
    }
    auto loaded =
        read.outcome == UnwrittenRead::Outcome::Read
            ? parseManifestText(read.text, file)
            : Expected<std::vector<ManifestObject>>(Status(ErrorCode::NotFound, read.error));
    if (!loaded) {
      report.errors.push_back(loaded.error().message() + " (the file's previous objects are kept)");
      if (auto it = by_file_.find(file); it != by_file_.end()) next[file] = it->second;
      continue;
    }
    auto& objects = next[file];
    for (auto& m : *loaded) {
      auto resource = resourceFor(m.object.value("apiVersion", ""), m.kind());
      if (!resource) {
        report.errors.push_back(m.origin + ": " + resource.error().message());
        continue;
      }
      if (resource->group == "discovery.k8s.io") m.object["apiVersion"] = "discovery.k8s.io/v1";
      const auto& meta = m.object["metadata"];
      ObjectKey key{resource->namespaced ? meta.value("namespace", "") : "",
                    meta.value("name", "")};
      objects[idOf(*resource, key)] = {*resource, std::move(m.object)};
    }
  }

  std::map<std::string, const Applied*> previous, desired;
  for (const auto& [file, objects] : by_file_)
    for (const auto& [id, applied] : objects) previous[id] = &applied;
  for (const auto& [file, objects] : next)
    for (const auto& [id, applied] : objects) {
      if (desired.count(id))
        report.errors.push_back(file + ": " + id + " is defined twice; the later file wins");
      desired[id] = &applied;
    }

  for (const auto& [id, applied] : desired) {
    auto old = previous.find(id);
    if (old != previous.end() && old->second->object == applied->object) continue;
    kube::Json object = applied->object;
    object.erase("status");  // status belongs to the operator
    auto created = memory_.create(applied->resource, object);
    if (created) {
      ++report.created;
      continue;
    }
    if (created.error().code() != ErrorCode::AlreadyExists) {
      report.errors.push_back(id + ": " + created.error().message());
      continue;
    }
    auto updated = memory_.update(applied->resource, object);
    if (updated)
      ++report.updated;
    else
      report.errors.push_back(id + ": " + updated.error().message());
  }
  for (const auto& [id, applied] : previous) {
    if (desired.count(id)) continue;
    const auto& meta = applied->object["metadata"];
    ObjectKey key{meta.value("namespace", ""), meta.value("name", "")};
    if (!applied->resource.namespaced) key.namespace_.clear();
    Status st = memory_.remove(applied->resource, key, {});
    if (st || st.code() == ErrorCode::NotFound) {
      ++report.deleted;
      if (on_deleted_) on_deleted_(applied->resource, key);
    } else
      report.errors.push_back(id + ": " + st.message());
  }
  by_file_ = std::move(next);
  for (const auto& error : report.errors) log::warn("manifest not applied", {{"error", error}});
  if (report.created + report.updated + report.deleted > 0)
    log::info("manifests synced", {{"dir", dir_},
                                   {"created", std::to_string(report.created)},
                                   {"updated", std::to_string(report.updated)},
                                   {"deleted", std::to_string(report.deleted)}});
  return report;
}

DirectoryWatcher::DirectoryWatcher(std::string dir, std::function<void()> on_change)
    : dir_(std::move(dir)), on_change_(std::move(on_change)) {}

void DirectoryWatcher::run(CancelSource& cancel) {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    log::error("inotify unavailable: manifest changes will not be seen", {{"dir", dir_}});
    return;
  }
  // Editors save by writing in place (CLOSE_WRITE) or by renaming a temporary (MOVED_TO).
  if (inotify_add_watch(fd, dir_.c_str(),
                        IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE) < 0) {
    log::error("cannot watch the manifest directory", {{"dir", dir_}});
    ::close(fd);
    return;
  }
  alignas(inotify_event) char buffer[16384];
  while (!cancel.cancelled()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    bool changed = false;
    // Collect a burst (an editor's save is several events) before syncing once.
    for (int quiet = 0; quiet < 2 && !cancel.cancelled();) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        changed = true;
        quiet = 0;
        continue;
      }
      ++quiet;
      ::poll(&p, 1, 10);
    }
    if (changed) on_change_();
  }
  ::close(fd);
}

}  // namespace portico::local
