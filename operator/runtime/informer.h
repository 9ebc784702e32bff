// Informer<T>: keeps a Store<T> equal to the API server's view of one resource and tells
// handlers what changed: list, then watch from the list's resourceVersion; re-watch when the
// server ends a watch; relist on 410 Gone; reconnect with backoff when the server goes away;
// periodic resync replays every object to the handlers (level-based controllers catch up).
// Handlers are only ever called from the run() thread, one at a time: resync runs on it too
// (as client-go's does), between watch events and when a watch ends, and the watch's server
// timeout is capped at the resync period so a quiet resource still resyncs on time.
// T is decoded from JSON through ADL from_json (runtime never links crds).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "operator/base/backoff.h"
#include "operator/base/log.h"
#include "operator/base/thread_annotations.h"
#include "operator/kube/client.h"
#include "operator/runtime/runnable.h"
#include "operator/runtime/store.h"

namespace portico::runtime {

struct InformerOptions {
  std::string namespace_;  // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  int64_t page_size = 500;
  std::chrono::seconds resync_period{0};  // 0 = never; at least 1 s otherwise
  // Server-side watch timeout, randomised in [min, max] so replicas do not re-watch in lockstep.
  int watch_timeout_min_seconds = 300;
  int watch_timeout_max_seconds = 600;
  ExponentialBackoff reconnect_backoff{std::chrono::milliseconds(250),
                                       std::chrono::milliseconds(8000), 2.0};
};

template <typename T>
struct InformerHandlers {
  std::function<void(const ObjectKey&, const std::shared_ptr<const T>&)> on_add;
  std::function<void(const ObjectKey&, const std::shared_ptr<const T>& old_obj,
                     const std::shared_ptr<const T>& new_obj)>
      on_update;
  std::function<void(const ObjectKey&, const std::shared_ptr<const T>& last)> on_delete;
};

namespace detail {
inline ObjectKey keyOfJson(const kube::Json& object) {
  ObjectKey key;
  if (auto meta = object.find("metadata"); meta != object.end() && meta->is_object()) {
    key.namespace_ = meta->value("namespace", "");
    key.name = meta->value("name", "");
  }
  return key;
}
inline std::string resourceVersionOf(const kube::Json& object) {
  if (auto meta = object.find("metadata"); meta != object.end() && meta->is_object())
    return meta->value("resourceVersion", "");
  return "";
}
}  // namespace detail

template <typename T>
class Informer final : public SyncedRunnable {
public:
  Informer(kube::KubeClient& client, kube::Resource resource, InformerOptions options = {})
      : client_(client), resource_(std::move(resource)), options_(std::move(options)) {}

  std::string name() const override { return "informer/" + resource_.toString(); }

  // Handlers must be added before run().
  void addHandlers(InformerHandlers<T> handlers) { handlers_.push_back(std::move(handlers)); }

  const Store<T>& store() const { return store_; }
  bool hasSynced() const override { return synced_.load(); }
  std::string lastResourceVersion() const {
    MutexLock lock(rv_mutex_);
    return last_rv_;
  }
  // Counters, for tests and metrics.
  int listCount() const { return lists_.load(); }
  int watchCount() const { return watches_.load(); }

  void run(CancelSource& cancel) override {
    int failures = 0;
    while (!cancel.cancelled()) {
      if (!relist()) {
        if (!cancel.sleepFor(options_.reconnect_backoff.delay(failures++, randomJitter()))) break;
        continue;
      }
      failures = 0;
      next_resync_ = std::chrono::steady_clock::now() + options_.resync_period;
      watchUntilRelist(cancel);
    }
  }

private:
  std::shared_ptr<const T> decode(const kube::Json& object, const ObjectKey& key) {
    try {
      return std::make_shared<const T>(object.get<T>());
    } catch (const std::exception& e) {
      log::warn("informer: cannot decode object, skipped",
                {{"resource", resource_.toString()}, {"key", key.toString()}, {"error", e.what()}});
      return nullptr;
    }
  }

  void setRv(std::string rv) {
    MutexLock lock(rv_mutex_);
    last_rv_ = std::move(rv);
  }

  void applyUpsert(const ObjectKey& key, std::shared_ptr<const T> obj) {
    auto old = store_.upsert(key, obj);
    for (auto& h : handlers_) {
      if (old && h.on_update)
        h.on_update(key, old, obj);
      else if (!old && h.on_add)
        h.on_add(key, obj);
    }
  }

  void applyDelete(const ObjectKey& key) {
    auto old = store_.remove(key);
    if (!old) return;
    for (auto& h : handlers_)
      if (h.on_delete) h.on_delete(key, old);
  }

  // On the run() thread only: replays every object when the resync period has passed.
  void maybeResync() {
    if (options_.resync_period.count() <= 0) return;
    auto now = std::chrono::steady_clock::now();
    if (now < next_resync_) return;
    next_resync_ = now + options_.resync_period;
    replayAll();
  }

  void replayAll() {
    for (const auto& key : store_.keys()) {
      auto obj = store_.get(key);
      if (!obj) continue;
      for (auto& h : handlers_)
        if (h.on_update) h.on_update(key, obj, obj);
    }
  }

  // Lists everything and makes the store equal to it, telling handlers about the differences
  // (objects deleted while we were not watching get on_delete).
  bool relist() {
    kube::ListOptions list_options;
    list_options.label_selector = options_.label_selector;
    list_options.field_selector = options_.field_selector;
    list_options.limit = options_.page_size;
    auto page = client_.listAll(resource_, options_.namespace_, list_options);
    ++lists_;
    if (!page) {
      log::warn("informer: list failed",
                {{"resource", resource_.toString()}, {"error", page.error().toString()}});
      return false;
    }
    std::set<ObjectKey> seen;
    for (const auto& item : page->items) {
      ObjectKey key = detail::keyOfJson(item);
      seen.insert(key);
      auto current = store_.get(key);
      if (current && rvOf_.count(key) && rvOf_[key] == detail::resourceVersionOf(item)) continue;
      if (auto obj = decode(item, key)) {
        rvOf_[key] = detail::resourceVersionOf(item);
        applyUpsert(key, std::move(obj));
      }
    }
    for (const auto& key : store_.keys()) {
      if (!seen.count(key)) {
        rvOf_.erase(key);
        applyDelete(key);
      }
    }
    setRv(page->resource_version);
    synced_ = true;
    log::debug("informer: listed", {{"resource", resource_.toString()},
                                    {"count", std::to_string(page->items.size())},
                                    {"resourceVersion", page->resource_version}});
    return true;
  }

  // Watches from the last resourceVersion until a relist is needed (410) or cancel.
  void watchUntilRelist(CancelSource& cancel) {
    int failures = 0;
    while (!cancel.cancelled()) {
      kube::WatchOptions watch_options;
      watch_options.resource_version = lastResourceVersion();
      watch_options.label_selector = options_.label_selector;
      watch_options.field_selector = options_.field_selector;
      int span =
          std::max(0, options_.watch_timeout_max_seconds - options_.watch_timeout_min_seconds);
      watch_options.timeout_seconds =
          options_.watch_timeout_min_seconds + static_cast<int>(randomJitter() * (span + 1));
      if (options_.resync_period.count() > 0)  // a quiet watch must not delay the resync
        watch_options.timeout_seconds =
            std::max(1, std::min(watch_options.timeout_seconds,
                                 static_cast<int>(options_.resync_period.count())));
      bool got_event = false;
      ++watches_;
      Status status = client_.watch(
          resource_, options_.namespace_, watch_options,
          [&](kube::WatchEvent&& event) {
            got_event = true;
            handleEvent(std::move(event));
            maybeResync();
            return true;
          },
          cancel);
      if (cancel.cancelled()) return;
      maybeResync();
      if (status.code() == ErrorCode::Gone) {
        log::info("informer: resourceVersion too old, relisting",
                  {{"resource", resource_.toString()}, {"resourceVersion", lastResourceVersion()}});
        return;
      }
      if (status.isOk()) {
        failures = 0;  // the server ended the watch on time: re-watch at once
        continue;
      }
      if (got_event) failures = 0;
      log::warn("informer: watch failed, reconnecting",
                {{"resource", resource_.toString()}, {"error", status.toString()}});
      if (!cancel.sleepFor(options_.reconnect_backoff.delay(failures++, randomJitter()))) return;
    }
  }

  void handleEvent(kube::WatchEvent&& event) {
    const ObjectKey key = detail::keyOfJson(event.object);
    std::string rv = detail::resourceVersionOf(event.object);
    switch (event.type) {
      case kube::WatchEventType::Added:
      case kube::WatchEventType::Modified:
        if (auto obj = decode(event.object, key)) {
          rvOf_[key] = rv;
          applyUpsert(key, std::move(obj));
        }
        break;
      case kube::WatchEventType::Deleted:
        rvOf_.erase(key);
        applyDelete(key);
        break;
      case kube::WatchEventType::Bookmark:
      case kube::WatchEventType::Error: break;
    }
    if (!rv.empty()) setRv(std::move(rv));
  }

  kube::KubeClient& client_;
  kube::Resource resource_;
  InformerOptions options_;
  std::vector<InformerHandlers<T>> handlers_;
  Store<T> store_;
  std::map<ObjectKey, std::string> rvOf_;              // touched only by the run() thread
  std::chrono::steady_clock::time_point next_resync_;  // likewise
  std::atomic<bool> synced_{false};
  mutable Mutex rv_mutex_;
  std::string last_rv_;
  std::atomic<int> lists_{0};
  std::atomic<int> watches_{0};
};

}  // namespace portico::runtime
