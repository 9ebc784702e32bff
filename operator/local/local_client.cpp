#include "operator/local/local_client.h"

#include "operator/base/log.h"
#include "operator/base/thread_annotations.h"
#include "operator/local/kinds.h"

namespace portico::local {

LocalKubeClient::LocalKubeClient(MemoryKubeClient& memory, StateDir state)
    : memory_(memory), state_(std::move(state)) {}

namespace {

// Marks a state file that holds only the status of an object the manifests define.
constexpr const char* kStatusOnlyAnnotation = "portico.io/state";

// What Portico itself creates; of anything else the state directory holds only the status.
bool porticoCreates(const kube::Resource& resource) {
  return resource.resource == "secrets" || resource.resource == "events" ||
         resource.resource == "leases" || resource.resource == "certificates";
}

ObjectKey keyIn(const kube::Resource& resource, const kube::Json& object) {
  const auto& meta = object.at("metadata");
  return {resource.namespaced ? meta.value("namespace", "") : "", meta.value("name", "")};
}

}  // namespace

std::string LocalKubeClient::idOf(const kube::Resource& resource, const ObjectKey& key) {
  return resource.group + "/" + resource.resource + "/" + key.toString();
}

Expected<kube::Json> LocalKubeClient::persist(const kube::Resource& resource,
                                              Expected<kube::Json> written, bool created) {
  if (!written) return written;
  const kube::Json& object = *written;
  ObjectKey key = keyIn(resource, object);
  bool whole;
  {
    MutexLock lock(mutex_);
    if (created) created_.insert(idOf(resource, key));
    whole = created_.count(idOf(resource, key)) > 0;
  }
  kube::Json stored;
  if (whole) {
    stored = object;
  } else {
    // Only what Portico wrote: the status, on a stub naming the object.
    if (!object.contains("status")) return written;
    stored["kind"] = object.value("kind", "");
    stored["metadata"] = {{"name", key.name}, {"annotations", {{kStatusOnlyAnnotation, "status"}}}};
    if (resource.namespaced) stored["metadata"]["namespace"] = key.namespace_;
    stored["status"] = object["status"];
  }
  if (!stored.contains("apiVersion")) stored["apiVersion"] = resource.apiVersion();
  if (Status st = state_.write(resource, stored); !st) {
    log::warn("state not saved", {{"error", st.toString()}});  // memory stays authoritative
    MutexLock lock(mutex_);
    unsaved_.insert({resource, key});
  }
  // The manifests may have dropped the object meanwhile (forget() ran before this write): its
  // stored status goes too.
  if (!whole && !memory_.get(resource, key)) (void)state_.remove(resource, key);
  return written;
}

Status LocalKubeClient::restoreState() {
  auto stored = state_.loadAll();
  if (!stored) return stored.error();
  for (auto& [resource, object] : *stored) {
    ObjectKey key = keyIn(resource, object);
    // Files from before stubs existed held whole objects of every kind: only what Portico
    // creates is restored whole.
    bool status_only = !porticoCreates(resource) ||
                       object.value("/metadata/annotations"_json_pointer, kube::Json::object())
                               .value(kStatusOnlyAnnotation, "") == "status";
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
    if (status_only) {
      // The manifests no longer define the object: it stays deleted, and so does its status.
      if (Status st = state_.remove(resource, key); !st)
        log::warn("stored status of a deleted object not removed", {{"error", st.toString()}});
      continue;
    }
    object["metadata"].erase("resourceVersion");
    if (auto st = memory_.create(resource, object); !st) {
      log::warn("stored object not restored",
                {{"object", key.toString()}, {"error", st.error().toString()}});
      continue;
    }
    MutexLock lock(mutex_);
    created_.insert(idOf(resource, key));
  }
  return Status::ok();
}

size_t LocalKubeClient::retryUnsaved() {
  std::set<std::pair<kube::Resource, ObjectKey>> pending;
  {
    MutexLock lock(mutex_);
    pending.swap(unsaved_);
  }
  for (const auto& [resource, key] : pending) {
    auto current = memory_.get(resource, key);
    if (current)
      (void)persist(resource, std::move(current));  // fails again → back into unsaved_
    else
      (void)state_.remove(resource, key);
  }
  MutexLock lock(mutex_);
  if (!pending.empty() && unsaved_.empty())
    log::info("state saved again", {{"objects", std::to_string(pending.size())}});
  return unsaved_.size();
}

void LocalKubeClient::forget(const kube::Resource& resource, const ObjectKey& key) {
  {
    MutexLock lock(mutex_);
    if (created_.count(idOf(resource, key))) return;  // not the manifests' object
  }
  if (Status st = state_.remove(resource, key); !st)
    log::warn("stored status of a deleted object not removed", {{"error", st.toString()}});
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
  return persist(r, memory_.create(r, object), /*created=*/true);
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
  if (st) {
    ObjectKey stored_key = r.namespaced ? key : ObjectKey{"", key.name};
    if (Status removed = state_.remove(r, stored_key); !removed)
      log::warn("state not removed", {{"error", removed.toString()}});
    MutexLock lock(mutex_);
    created_.erase(idOf(r, stored_key));
  }
  return st;
}

Expected<std::vector<kube::GroupVersion>> LocalKubeClient::serverGroupVersions() {
  return memory_.serverGroupVersions();
}

}  // namespace portico::local
