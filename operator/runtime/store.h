// Store<T>: the informer's cache ("lister"): key → shared_ptr<const T>. Readers get immutable
// snapshots of objects; writers (one informer) replace whole objects.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "operator/base/object_key.h"
#include "operator/base/thread_annotations.h"

namespace portico::runtime {

template <typename T>
class Store {
public:
  using Ptr = std::shared_ptr<const T>;

  Ptr get(const ObjectKey& key) const {
    ReaderLock lock(mutex_);
    auto it = items_.find(key);
    return it == items_.end() ? nullptr : it->second;
  }

  std::vector<Ptr> list() const {
    ReaderLock lock(mutex_);
    std::vector<Ptr> out;
    out.reserve(items_.size());
    for (const auto& [key, item] : items_) out.push_back(item);
    return out;
  }

  std::vector<ObjectKey> keys() const {
    ReaderLock lock(mutex_);
    std::vector<ObjectKey> out;
    out.reserve(items_.size());
    for (const auto& [key, item] : items_) out.push_back(key);
    return out;
  }

  size_t size() const {
    ReaderLock lock(mutex_);
    return items_.size();
  }

  // Returns the previous value (null if none).
  Ptr upsert(const ObjectKey& key, Ptr item) {
    WriterLock lock(mutex_);
    auto& slot = items_[key];
    Ptr old = std::move(slot);
    slot = std::move(item);
    return old;
  }

  // Returns the removed value (null if none).
  Ptr remove(const ObjectKey& key) {
    WriterLock lock(mutex_);
    auto it = items_.find(key);
    if (it == items_.end()) return nullptr;
    Ptr old = std::move(it->second);
    items_.erase(it);
    return old;
  }

private:
  mutable SharedMutex mutex_;
  std::map<ObjectKey, Ptr> items_ GUARDED_BY(mutex_);
};

}  // namespace portico::runtime
