#include "operator/local/memory_client.h"

#include "operator/base/object_names.h"
#include "operator/base/thread_annotations.h"
#include "operator/base/time_format.h"

#include <algorithm>
#include <chrono>
#include <functional>

namespace portico::local {

using kube::Json;

namespace {
ObjectKey keyOf(const Json& object) {
  const Json& meta = object["metadata"];
  return {meta.value("namespace", ""), meta.value("name", "")};
}

// "a=b,c=d" (equality only, what Portico's informers use) against labels or fields.
bool selectorMatches(const std::string& selector,
                     const std::function<std::string(const std::string&)>& value_of) {
  size_t start = 0;
  while (start < selector.size()) {
    size_t end = selector.find(',', start);
    if (end == std::string::npos) end = selector.size();
    std::string term = selector.substr(start, end - start);
    start = end + 1;
    if (term.empty()) continue;
    size_t eq = term.find('=');
    if (eq == std::string::npos) return false;
    std::string key = term.substr(0, eq);
    std::string want = term.substr(eq + (term.compare(eq, 2, "==") == 0 ? 2 : 1));
    if (value_of(key) != want) return false;
  }
  return true;
}

bool objectMatches(const Json& object, const std::string& ns, const std::string& labels,
                   const std::string& fields) {
  const Json& meta = object["metadata"];
  if (!ns.empty() && meta.value("namespace", "") != ns) return false;
  if (!selectorMatches(labels, [&](const std::string& key) {
        auto l = meta.find("labels");
        return l != meta.end() && l->is_object() ? l->value(key, "") : std::string();
      }))
    return false;
  return selectorMatches(fields, [&](const std::string& key) -> std::string {
    if (key == "metadata.name") return meta.value("name", "");
    if (key == "metadata.namespace") return meta.value("namespace", "");
    if (key == "type") return object.value("type", "");
    return "";
  });
}
}  // namespace

Status MemoryKubeClient::checkAvailableLocked(const std::string& verb, const kube::Resource& r,
                                              const std::string& ns) {
  ++calls_[verb];
  if (unavailable_) return Status(ErrorCode::Unavailable, "connection refused (memory)");
  // As a namespaced Role answers: other namespaces, and all of them at once, are refused.
  if (!confined_to_.empty() && r.namespaced && ns != confined_to_)
    return Status(ErrorCode::Forbidden,
                  r.resource + " is forbidden: cannot " + verb + " in namespace \"" + ns + "\"")
        .withHttp(403, "Forbidden");
  return Status::ok();
}

void MemoryKubeClient::recordLocked(const kube::Resource& r, kube::WatchEventType type,
                                    const Json& object) {
  Event event{rv_, idOf(r), type, object.dump()};
  history_bytes_ += event.object.size() + event.resource_id.size() + sizeof(Event);
  history_.push_back(std::move(event));
  // Bounded like etcd's compaction: a watcher that falls this far behind relists (410).
  while (history_.size() > kMaxHistory ||
         (history_bytes_ > kMaxHistoryBytes && history_.size() > 1)) {
    const Event& oldest = history_.front();
    history_bytes_ -= oldest.object.size() + oldest.resource_id.size() + sizeof(Event);
    compacted_rv_ = oldest.rv;
    history_.pop_front();
  }
  cv_.notify_all();
}

Expected<Json> MemoryKubeClient::get(const kube::Resource& r, const ObjectKey& key) {
  MutexLock lock(mutex_);
  if (Status st = checkAvailableLocked("get", r, key.namespace_); !st) return st;
  auto& items = objects_[idOf(r)];
  auto it = items.find(r.namespaced ? key : ObjectKey{"", key.name});
  if (it == items.end())
    return Status(ErrorCode::NotFound, r.resource + " \"" + key.name + "\" not found")
        .withHttp(404, "NotFound");
  return it->second;
}

Expected<kube::ListPage> MemoryKubeClient::list(const kube::Resource& r, const std::string& ns,
                                                const kube::ListOptions& options) {
  MutexLock lock(mutex_);
  if (Status st = checkAvailableLocked("list", r, ns); !st) return st;
  kube::ListPage page;
  page.resource_version = std::to_string(rv_);
  auto& items = objects_[idOf(r)];
  auto it = items.begin();
  if (!options.continue_token.empty())
    it = items.upper_bound(ObjectKey::parse(options.continue_token));
  for (; it != items.end(); ++it) {
    if (!objectMatches(it->second, ns, options.label_selector, options.field_selector)) continue;
    if (options.limit > 0 && static_cast<int64_t>(page.items.size()) == options.limit) {
      page.continue_token = keyOf(page.items.back()).toString();
      break;
    }
    page.items.push_back(it->second);
  }
  return page;
}

Status MemoryKubeClient::watch(const kube::Resource& r, const std::string& ns,
                               const kube::WatchOptions& options, const kube::WatchHandler& handler,
                               CancelSource& cancel) {
  CancelRegistration wake(cancel, [this] {
    MutexLock lock(mutex_);
    cv_.notify_all();
  });
  MutexLock lock(mutex_);
  if (Status st = checkAvailableLocked("watch", r, ns); !st) return st;
  if (watches_broken_) return Status(ErrorCode::Unavailable, "watch refused (memory)");
  int64_t from = options.resource_version.empty() ? rv_ : std::stoll(options.resource_version);
  if (from < compacted_rv_)
    return Status(ErrorCode::Gone, "too old resource version").withHttp(410, "Expired");
  const uint64_t epoch = watch_epoch_;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.timeout_seconds);
  while (true) {
    if (cancel.cancelled()) return Status(ErrorCode::Cancelled, "cancelled");
    if (unavailable_ || watches_broken_)
      return Status(ErrorCode::Unavailable, "connection lost (memory)");
    if (watch_epoch_ != epoch) return Status::ok();
    std::vector<kube::WatchEvent> ready;
    auto first = std::partition_point(history_.begin(), history_.end(),
                                      [&](const Event& e) { return e.rv <= from; });
    for (auto e = first; e != history_.end(); ++e) {
      if (e->resource_id != idOf(r)) continue;
      Json object = Json::parse(e->object);
      if (objectMatches(object, ns, options.label_selector, options.field_selector))
        ready.push_back(kube::WatchEvent{e->type, std::move(object)});
    }
    if (!history_.empty()) from = std::max(from, history_.back().rv);
    if (!ready.empty()) {
      lock.unlock();
      for (auto& e : ready)
        if (!handler(std::move(e))) return Status::ok();
      lock.lock();
      continue;
    }
    if (std::chrono::steady_clock::now() >= deadline) return Status::ok();
    lock.waitFor(cv_, std::chrono::milliseconds(50));
  }
}

Expected<Json> MemoryKubeClient::create(const kube::Resource& r, const Json& input) {
  MutexLock lock(mutex_);
  Json object = input;
  ObjectKey key = keyOf(object);
  if (!r.namespaced) key.namespace_.clear();
  if (r.namespaced && key.namespace_.empty()) {
    key.namespace_ = "default";
    object["metadata"]["namespace"] = "default";
  }
  if (Status st = checkAvailableLocked("create", r, key.namespace_); !st) return st;
  // As the API server does: a name or namespace that is no DNS name is refused (it would also
  // become a path in the state directory).
  if (auto invalid = invalidObjectKey(key, r.namespaced))
    return Status(ErrorCode::Invalid, r.resource + ": " + *invalid).withHttp(422, "Invalid");
  auto& items = objects_[idOf(r)];
  if (items.count(key))
    return Status(ErrorCode::AlreadyExists, r.resource + " \"" + key.name + "\" already exists")
        .withHttp(409, "AlreadyExists");
  ++rv_;
  object["metadata"]["resourceVersion"] = std::to_string(rv_);
  object["metadata"]["uid"] = "uid-" + std::to_string(rv_);
  object["metadata"]["generation"] = 1;
  if (!object["metadata"].contains("creationTimestamp"))
    object["metadata"]["creationTimestamp"] = formatRfc3339(std::chrono::system_clock::now());
  items[key] = object;
  recordLocked(r, kube::WatchEventType::Added, object);
  return object;
}

Expected<Json> MemoryKubeClient::writeLocked(const kube::Resource& r, Json object,
                                             bool status_only) {
  ObjectKey key = keyOf(object);
  if (!r.namespaced) key.namespace_.clear();
  auto& items = objects_[idOf(r)];
  auto it = items.find(key);
  if (it == items.end())
    return Status(ErrorCode::NotFound, key.name + " not found").withHttp(404, "NotFound");
  std::string sent_rv = object["metadata"].value("resourceVersion", "");
  if (!sent_rv.empty() && sent_rv != it->second["metadata"].value("resourceVersion", ""))
    return Status(ErrorCode::Conflict, "the object has been modified").withHttp(409, "Conflict");
  Json stored = it->second;
  if (status_only) {
    if (object.contains("status")) stored["status"] = object["status"];
  } else {
    Json status = stored.contains("status") ? stored["status"] : Json();
    if (object.value("spec", Json()) != stored.value("spec", Json()))
      object["metadata"]["generation"] = stored["metadata"].value("generation", 1) + 1;
    else
      object["metadata"]["generation"] = stored["metadata"].value("generation", 1);
    object["metadata"]["uid"] = stored["metadata"]["uid"];
    stored = object;
    if (!status.is_null())
      stored["status"] = status;  // status changes only through /status
    else
      stored.erase("status");
  }
  ++rv_;
  stored["metadata"]["resourceVersion"] = std::to_string(rv_);
  it->second = stored;
  recordLocked(r, kube::WatchEventType::Modified, stored);
  return stored;
}

Expected<Json> MemoryKubeClient::update(const kube::Resource& r, const Json& object) {
  MutexLock lock(mutex_);
  if (Status st = checkAvailableLocked("update", r, keyOf(object).namespace_); !st) return st;
  return writeLocked(r, object, false);
}

Expected<Json> MemoryKubeClient::updateStatus(const kube::Resource& r, const Json& object) {
  MutexLock lock(mutex_);
  if (Status st = checkAvailableLocked("updateStatus", r, keyOf(object).namespace_); !st) return st;
  return writeLocked(r, object, true);
}

Expected<Json> MemoryKubeClient::patch(const kube::Resource& r, const ObjectKey& key,
                                       kube::PatchType type, const std::string& body,
                                       const kube::PatchOptions& options) {
  MutexLock lock(mutex_);
  if (Status st = checkAvailableLocked("patch", r, key.namespace_); !st) return st;
  if (type != kube::PatchType::Merge)
    return Status(ErrorCode::InvalidArgument, "the in-memory server supports merge patches only");
  auto& items = objects_[idOf(r)];
  auto it = items.find(r.namespaced ? key : ObjectKey{"", key.name});
  if (it == items.end())
    return Status(ErrorCode::NotFound, key.name + " not found").withHttp(404, "NotFound");
  auto patch_doc = Json::parse(body, nullptr, false);
  if (patch_doc.is_discarded()) return Status(ErrorCode::InvalidArgument, "patch is not JSON");
  Json patched = it->second;
  patched.merge_patch(patch_doc);
  patched["metadata"]["resourceVersion"] = it->second["metadata"]["resourceVersion"];
  return writeLocked(r, patched, options.subresource == "status");
}

Status MemoryKubeClient::remove(const kube::Resource& r, const ObjectKey& key,
                                const kube::DeleteOptions& options) {
  MutexLock lock(mutex_);
  if (Status st = checkAvailableLocked("delete", r, key.namespace_); !st) return st;
  auto& items = objects_[idOf(r)];
  auto it = items.find(r.namespaced ? key : ObjectKey{"", key.name});
  if (it == items.end())
    return Status(ErrorCode::NotFound, key.name + " not found").withHttp(404, "NotFound");
  const Json& meta = it->second["metadata"];
  if ((options.precondition_uid && *options.precondition_uid != meta.value("uid", "")) ||
      (options.precondition_resource_version &&
       *options.precondition_resource_version != meta.value("resourceVersion", "")))
    return Status(ErrorCode::Conflict, "precondition failed").withHttp(409, "Conflict");
  ++rv_;
  Json last = it->second;
  last["metadata"]["resourceVersion"] = std::to_string(rv_);
  items.erase(it);
  recordLocked(r, kube::WatchEventType::Deleted, last);
  return Status::ok();
}

Expected<std::vector<kube::GroupVersion>> MemoryKubeClient::serverGroupVersions() {
  MutexLock lock(mutex_);
  if (Status st = checkAvailableLocked("discovery", kube::Resource{"", "", "", false}, ""); !st)
    return st;
  return served_;
}

void MemoryKubeClient::setUnavailable(bool unavailable) {
  MutexLock lock(mutex_);
  unavailable_ = unavailable;
  cv_.notify_all();
}

void MemoryKubeClient::confineTo(std::string ns) {
  MutexLock lock(mutex_);
  confined_to_ = std::move(ns);
}

void MemoryKubeClient::setWatchesBroken(bool broken) {
  MutexLock lock(mutex_);
  watches_broken_ = broken;
  cv_.notify_all();
}

void MemoryKubeClient::compact() {
  MutexLock lock(mutex_);
  compacted_rv_ = rv_;
  history_.clear();
  history_bytes_ = 0;
}

size_t MemoryKubeClient::historyEvents() const {
  MutexLock lock(mutex_);
  return history_.size();
}

size_t MemoryKubeClient::historyBytes() const {
  MutexLock lock(mutex_);
  return history_bytes_;
}

void MemoryKubeClient::closeWatches() {
  MutexLock lock(mutex_);
  ++watch_epoch_;
  cv_.notify_all();
}

int64_t MemoryKubeClient::currentVersion() const {
  MutexLock lock(mutex_);
  return rv_;
}

int MemoryKubeClient::callCount(const std::string& verb) const {
  MutexLock lock(mutex_);
  auto it = calls_.find(verb);
  return it == calls_.end() ? 0 : it->second;
}

void MemoryKubeClient::setServedGroupVersions(std::vector<kube::GroupVersion> served) {
  MutexLock lock(mutex_);
  served_ = std::move(served);
}

}  // namespace portico::local
