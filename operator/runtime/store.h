// Store<T>: the informer's cache ("lister"): key → shared_ptr<const T>. Readers get immutable
// snapshots of objects; writers (one informer) replace whole objects.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <vector>

#include "operator/base/object_key.h"

namespace portico::runtime {

template <typename T>
class Store {
public:
  using Ptr = std::shared_ptr<const T>;

  Ptr get(const ObjectKey& key) const {
    std::shared_lock lock(mutex_);
    auto it = items_.find(key);
    return it == items_.end() ? nullptr : it->second;
  }

  std::vector<Ptr> list() const {
    std::shared_lock lock(mutex_);
    std::vector<Ptr> out;
    out.reserve(items_.size());
    for (const auto& [key, item] : items_) out.push_back(item);
    return out;
  }

  std::vector<ObjectKey> keys() const {
    std::shared_lock lock(mutex_);
    std::vector<ObjectKey> out;
    out.reserve(items_.size());
    for (const auto& [key, item] : items_) out.push_back(key);
    return out;
  }

  size_t size() const {
    std::shared_lock lock(mutex_);
    return items_.size();
  }

  // Returns the previous value (null if none).
  Ptr upsert(const ObjectKey& key, Ptr item) {
    std::unique_lock lock(mutex_);
    auto& slot = items_[key];
    Ptr old = std::move(slot);
    slot = std::move(item);
    return old;
  }

  // Returns the removed value (null if none).
  Ptr remove(const ObjectKey& key) {
    std::unique_lock lock(mutex_);
    auto it = items_.find(key);
    if (it == items_.end()) return nullptr;
    Ptr old = std::move(it->second);
    items_.erase(it);
    return old;
  }

private:
  mutable std::shared_mutex mutex_;
  std::map<ObjectKey, Ptr> items_;
};

}  // namespace portico::runtime
