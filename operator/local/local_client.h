// LocalKubeClient: the KubeClient `portico local` runs the controllers on. Reads go to the
// in-memory API server; every write the controllers make (status, Secrets, Events) also lands in
// the state directory, and the state directory is loaded back at start, so certificates and
// status survive a restart. The state directory holds only what Portico wrote:
//  - objects Portico created (Secrets, Events, Certificates, Leases) whole;
//  - of objects the manifests define (Ingresses, IngressClassConfigs, ...) only the status, in a
//    stub that is restored onto the object if the manifests still define it, and removed if not.
// Objects from manifest files are written by ManifestSync straight to the MemoryKubeClient; when
// it deletes one, forget() removes its stored status.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "operator/base/thread_annotations.h"
#include "operator/local/memory_client.h"
#include "operator/local/state_dir.h"

namespace portico::local {

class LocalKubeClient final : public kube::KubeClient {
public:
  LocalKubeClient(MemoryKubeClient& memory, StateDir state);

  // Puts the state directory's objects back: stored status onto objects the manifests still
  // define (stubs of deleted ones are removed), objects Portico created whole. Call after the
  // first ManifestSync.
  Status restoreState();
  // The manifests no longer define this object: its stored status goes too.
  void forget(const kube::Resource& resource, const ObjectKey& key);
  // Writes again what could not be saved (a full disk): called periodically, so the state
  // directory catches up once space returns. Returns how many objects are still unsaved.
  size_t retryUnsaved();

  Expected<kube::Json> get(const kube::Resource& resource, const ObjectKey& key) override;
  Expected<kube::ListPage> list(const kube::Resource& resource, const std::string& ns,
                                const kube::ListOptions& options) override;
  Status watch(const kube::Resource& resource, const std::string& ns,
               const kube::WatchOptions& options, const kube::WatchHandler& handler,
               CancelSource& cancel) override;
  Expected<kube::Json> create(const kube::Resource& resource, const kube::Json& object) override;
  Expected<kube::Json> update(const kube::Resource& resource, const kube::Json& object) override;
  Expected<kube::Json> updateStatus(const kube::Resource& resource,
                                    const kube::Json& object) override;
  Expected<kube::Json> patch(const kube::Resource& resource, const ObjectKey& key,
                             kube::PatchType type, const std::string& body,
                             const kube::PatchOptions& options) override;
  Status remove(const kube::Resource& resource, const ObjectKey& key,
                const kube::DeleteOptions& options) override;
  Expected<std::vector<kube::GroupVersion>> serverGroupVersions() override;

private:
  // `created`: the write created the object (Portico owns it from then on).
  Expected<kube::Json> persist(const kube::Resource& resource, Expected<kube::Json> written,
                               bool created = false);
  static std::string idOf(const kube::Resource& resource, const ObjectKey& key);

  MemoryKubeClient& memory_;
  StateDir state_;
  Mutex mutex_;
  std::set<std::string> created_ GUARDED_BY(mutex_);  // objects Portico created, stored whole
  std::set<std::pair<kube::Resource, ObjectKey>> unsaved_ GUARDED_BY(mutex_);  // writes that failed
};

}  // namespace portico::local
