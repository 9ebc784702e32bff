#include "operator/local/local_client.h"

#include "operator/base/log.h"
#include "operator/local/kinds.h"

namespace portico::local {

LocalKubeClient::LocalKubeClient(MemoryKubeClient& memory, StateDir state)
    : memory_(memory), state_(std::move(state)) {}

Expected<kube::Json> LocalKubeClient::persist(const kube::Resource& resource,
                                              Expected<kube::Json> written) {
  if (!written) return written;
  kube::Json object = *written;
  if (!object.contains("apiVersion")) object["apiVersion"] = resource.apiVersion();
  if (Status st = state_.write(resource, object); !st)
    log::warn("state not saved", {{"error", st.toString()}});  // memory stays authoritative
  return written;
}

Status LocalKubeClient::restoreState() {
  auto stored = state_.loadAll();
  if (!stored) return stored.error();
  for (auto& [resource, object] : *stored) {
    const auto& meta = object["metadata"];
    ObjectKey key{resource.namespaced ? meta.value("namespace", "") : "", meta.value("name", "")};
    auto existing = memory_.get(resource, key);
    if (existing) {
      if (!object.contains("status")) continue;
      kube::Json current = *existing;
      current["status"] = object["status"];
      if (auto st = memory_.updateStatus(resource, current); !st)
        log::warn("stored status not restored",
                  {{"object", key.toString()}, {"error", st.error().toString()}});
      continue;
    }
    object["metadata"].erase("resourceVersion");
    if (auto st = memory_.create(resource, object); !st)
      log::warn("stored object not restored",
                {{"object", key.toString()}, {"error", st.error().toString()}});
  }
  return Status::ok();
}

Expected<kube::Json> LocalKubeClient::get(const kube::Resource& r, const ObjectKey& key) {
  return memory_.get(r, key);
}

Expected<kube::ListPage> LocalKubeClient::list(const kube::Resource& r, const std::string& ns,
                                               const kube::ListOptions& options) {
  return memory_.list(r, ns, options);
}

Status LocalKubeClient::watch(const kube::Resource& r, const std::string& ns,
                              const kube::WatchOptions& options, const kube::WatchHandler& handler,
                              CancelSource& cancel) {
  return memory_.watch(r, ns, options, handler, cancel);
}

Expected<kube::Json> LocalKubeClient::create(const kube::Resource& r, const kube::Json& object) {
  return persist(r, memory_.create(r, object));
}

Expected<kube::Json> LocalKubeClient::update(const kube::Resource& r, const kube::Json& object) {
  return persist(r, memory_.update(r, object));
}

Expected<kube::Json> LocalKubeClient::updateStatus(const kube::Resource& r,
                                                   const kube::Json& object) {
  return persist(r, memory_.updateStatus(r, object));
}

Expected<kube::Json> LocalKubeClient::patch(const kube::Resource& r, const ObjectKey& key,
                                            kube::PatchType type, const std::string& body,
                                            const kube::PatchOptions& options) {
  return persist(r, memory_.patch(r, key, type, body, options));
}

Status LocalKubeClient::remove(const kube::Resource& r, const ObjectKey& key,
                               const kube::DeleteOptions& options) {
  Status st = memory_.remove(r, key, options);
  if (st) state_.remove(r, r.namespaced ? key : ObjectKey{"", key.name});
  return st;
}

Expected<std::vector<kube::GroupVersion>> LocalKubeClient::serverGroupVersions() {
  return memory_.serverGroupVersions();
}

}  // namespace portico::local
