#include "controllers/routes/secret_tracker.h"

#include <thread>

#include "operator/base/backoff.h"
#include "operator/base/log.h"
#include "operator/base/thread_annotations.h"

namespace portico::controllers::routes {

namespace {
const kube::Resource kSecrets = kube::resources::secrets();
// Secrets of other types are not certificates; the server filters them out of the stream.
const char* kTlsTypeSelector = "type=kubernetes.io/tls";

// A Secret that exists but cannot be decoded is kept as such (metadata and the reason, no data),
// not dropped as if it were missing: the last valid certificate stays in service, and the
// problem says "cannot be decoded", not "not found".
std::shared_ptr<const crds::Secret> decodeSecret(const kube::Json& object, const ObjectKey& key) {
  try {
    return std::make_shared<const crds::Secret>(object.get<crds::Secret>());
  } catch (const std::exception& e) {
    // The message names the key inside the Secret, never its value.
    log::warn("secret cannot be decoded", {{"secret", key.toString()}, {"error", e.what()}});
    auto undecodable = std::make_shared<crds::Secret>();
    undecodable->metadata.namespace_ = key.namespace_;
    undecodable->metadata.name = key.name;
    if (const auto meta = object.find("metadata"); meta != object.end() && meta->is_object())
      undecodable->metadata.resource_version = meta->value("resourceVersion", "");
    undecodable->type = crds::kTlsSecretType;
    undecodable->decode_error = e.what();
    return undecodable;
  }
}
}  // namespace

SecretTracker::SecretTracker(kube::KubeClient& client, OnChange on_change,
                             std::string watch_namespace)
    : client_(client),
      on_change_(std::move(on_change)),
      watch_namespace_(std::move(watch_namespace)) {}

void SecretTracker::setWanted(const std::set<ObjectKey>& wanted) {
  MutexLock lock(mutex_);
  if (wanted == wanted_) return;
  for (const auto& key : wanted)
    if (!wanted_.count(key)) pending_.insert(key);
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (wanted.count(it->first)) {
      ++it;
    } else {
      resource_versions_.erase(it->first);
      it = cache_.erase(it);
    }
  }
  for (auto it = pending_.begin(); it != pending_.end();)
    it = wanted.count(*it) ? std::next(it) : pending_.erase(it);
  wanted_ = wanted;
  cv_.notify_all();
}

std::vector<std::shared_ptr<const crds::Secret>> SecretTracker::secrets() const {
  MutexLock lock(mutex_);
  std::vector<std::shared_ptr<const crds::Secret>> out;
  out.reserve(cache_.size());
  for (const auto& [key, secret] : cache_) out.push_back(secret);
  return out;
}

size_t SecretTracker::cachedCount() const {
  MutexLock lock(mutex_);
  return cache_.size();
}

bool SecretTracker::settled() const {
  MutexLock lock(mutex_);
  return pending_.empty();
}

// Returns whether the cache changed. A null secret means "absent".
bool SecretTracker::store(const ObjectKey& key, std::shared_ptr<const crds::Secret> secret) {
  MutexLock lock(mutex_);
  if (!wanted_.count(key)) return false;
  if (!secret) {
    resource_versions_.erase(key);
    return cache_.erase(key) > 0;
  }
  auto& rv = resource_versions_[key];
  if (cache_.count(key) && rv == secret->metadata.resource_version) return false;
  rv = secret->metadata.resource_version;
  cache_[key] = std::move(secret);
  return true;
}

void SecretTracker::fetchPending(CancelSource& cancel) {
  ExponentialBackoff backoff{std::chrono::milliseconds(200), std::chrono::milliseconds(10000), 2.0};
  int failures = 0;
  while (!cancel.cancelled()) {
    ObjectKey key;
    {
      MutexLock lock(mutex_);
      if (pending_.empty()) lock.waitFor(cv_, std::chrono::milliseconds(200));
      if (pending_.empty()) continue;
      key = *pending_.begin();
    }
    auto object = client_.get(kSecrets, key);
    bool changed = false;
    if (object) {
      changed = store(key, decodeSecret(*object, key));
    } else if (object.error().code() == ErrorCode::NotFound) {
      changed = store(key, nullptr);
    } else {
      log::warn("secret fetch failed, retrying",
                {{"secret", key.toString()}, {"error", object.error().toString()}});
      if (!cancel.sleepFor(backoff.delay(failures++, 0.5))) return;
      continue;
    }
    failures = 0;
    bool now_settled;
    {
      MutexLock lock(mutex_);
      pending_.erase(key);
      now_settled = pending_.empty();
    }
    // Settling matters too: the publisher waits for it before the first snapshot.
    if (changed)
      on_change_(key);
    else if (now_settled)
      on_change_(ObjectKey{});
  }
}

void SecretTracker::watchLoop(CancelSource& cancel) {
  ExponentialBackoff backoff{std::chrono::milliseconds(250), std::chrono::milliseconds(8000), 2.0};
  int failures = 0;
  bool first = true;
  while (!cancel.cancelled()) {
    // The current resourceVersion, without listing every Secret.
    kube::ListOptions probe;
    probe.limit = 1;
    probe.field_selector = kTlsTypeSelector;
    auto page = client_.list(kSecrets, watch_namespace_, probe);
    if (!page) {
      log::warn("secret watch cannot start", {{"error", page.error().toString()}});
      if (!cancel.sleepFor(backoff.delay(failures++, 0.5))) return;
      continue;
    }
    std::string rv = page->resource_version;
    if (!first) {  // events may have been missed: fetch every wanted Secret again
      MutexLock lock(mutex_);
      pending_ = wanted_;
      cv_.notify_all();
    }
    first = false;
    while (!cancel.cancelled()) {
      kube::WatchOptions options;
      options.resource_version = rv;
      options.field_selector = kTlsTypeSelector;
      bool got_event = false;
      Status status = client_.watch(
          kSecrets, watch_namespace_, options,
          [&](kube::WatchEvent&& event) {
            got_event = true;
            const kube::Json& meta = event.object["metadata"];
            if (auto v = meta.find("resourceVersion"); v != meta.end() && v->is_string())
              rv = v->get<std::string>();
            if (event.type == kube::WatchEventType::Bookmark ||
                event.type == kube::WatchEventType::Error)
              return true;
            ObjectKey key{meta.value("namespace", ""), meta.value("name", "")};
            {
              MutexLock lock(mutex_);
              if (!wanted_.count(key)) return true;  // not ours: dropped, never cached
            }
            bool changed = event.type == kube::WatchEventType::Deleted
                               ? store(key, nullptr)
                               : store(key, decodeSecret(event.object, key));
            if (changed) on_change_(key);
            return true;
          },
          cancel);
      if (cancel.cancelled()) return;
      if (status.isOk()) continue;  // the server ended the watch: resume from rv
      if (got_event) failures = 0;
      log::warn("secret watch ended, restarting", {{"error", status.toString()}});
      if (!cancel.sleepFor(backoff.delay(failures++, 0.5))) return;
      break;  // relist for a fresh resourceVersion (410 or a lost connection)
    }
  }
}

void SecretTracker::run(CancelSource& cancel) {
  std::thread watcher([&] { watchLoop(cancel); });
  fetchPending(cancel);
  watcher.join();
}

}  // namespace portico::controllers::routes
