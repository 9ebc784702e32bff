// LocalKubeClient: the KubeClient `portico local` runs the controllers on. Reads go to the
// in-memory API server; every write the controllers make (status, Secrets, Events) also lands in
// the state directory, and the state directory is loaded back at start, so certificates and
// status survive a restart. Objects from manifest files are written by ManifestSync straight to
// the MemoryKubeClient and are not copied to the state directory.
#pragma once

#include <memory>

#include "operator/local/memory_client.h"
#include "operator/local/state_dir.h"

namespace portico::local {

class LocalKubeClient final : public kube::KubeClient {
public:
  LocalKubeClient(MemoryKubeClient& memory, StateDir state);

  // Puts the state directory's objects back: status onto objects that exist (from manifests),
  // whole objects otherwise. Call after the first ManifestSync.
  Status restoreState();

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
  Expected<kube::Json> persist(const kube::Resource& resource, Expected<kube::Json> written);

  MemoryKubeClient& memory_;
  StateDir state_;
};

}  // namespace portico::local
