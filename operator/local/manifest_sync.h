// ManifestSync: makes the in-memory API server hold exactly the objects of a manifest
// directory: new objects are created, changed ones updated (their status, written by the
// operator, is kept), removed ones deleted. A file that does not parse is reported and its
// previous objects are kept (a typo while editing loses nothing); so are those of a file some
// process has open for writing (a half-written file is never read). DirectoryWatcher reruns the
// sync when inotify reports a change in the directory.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "operator/base/thread_annotations.h"
#include "operator/local/manifests.h"
#include "operator/local/memory_client.h"
#include "operator/runtime/runnable.h"

namespace portico::local {

struct SyncReport {
  int created = 0;
  int updated = 0;
  int deleted = 0;
  int being_written = 0;            // files open for writing: their previous objects kept
  std::vector<std::string> errors;  // one per file or object that was not applied
};

class ManifestSync {
public:
  ManifestSync(MemoryKubeClient& memory, std::string dir);
  SyncReport syncOnce();
  // Called for each object a sync deletes (set before syncs run on another thread).
  void onDeleted(std::function<void(const kube::Resource&, const ObjectKey&)> callback) {
    on_deleted_ = std::move(callback);
  }

private:
  struct Applied {
    kube::Resource resource;
    kube::Json object;  // as read from the file (normalized)
  };
  std::string idOf(const kube::Resource& resource, const ObjectKey& key) const;

  MemoryKubeClient& memory_;
  std::string dir_;
  Mutex mutex_;
  std::map<std::string, std::map<std::string, Applied>> by_file_
      GUARDED_BY(mutex_);  // file → object id → object
  std::function<void(const kube::Resource&, const ObjectKey&)> on_deleted_;
};

class DirectoryWatcher final : public runtime::Runnable {
public:
  DirectoryWatcher(std::string dir, std::function<void()> on_change);
  std::string name() const override { return "directory-watcher"; }
  void run(CancelSource& cancel) override;

private:
  std::string dir_;
  std::function<void()> on_change_;
};

}  // namespace portico::local
