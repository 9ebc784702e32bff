#include "operator/base/cancel.h"

#include <vector>

namespace portico {

void CancelSource::cancel() {
  std::map<CallbackId, std::function<void()>> to_run;
  {
    std::lock_guard lock(mutex_);
    if (cancelled_) return;
    cancelled_ = true;
    to_run.swap(callbacks_);
  }
  cv_.notify_all();
  // Cancellation cannot fail: a callback that throws must not stop the others (or unwind the
  // canceller's stack past a joinable thread).
  for (auto& [id, callback] : to_run) {
    try {
      callback();
    } catch (...) {
    }
  }
}

bool CancelSource::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

CancelSource::CallbackId CancelSource::onCancel(std::function<void()> callback) {
  {
    std::lock_guard lock(mutex_);
    if (!cancelled_) {
      CallbackId id = next_id_++;
      callbacks_.emplace(id, std::move(callback));
      return id;
    }
  }
  callback();
  return 0;
}

void CancelSource::unregister(CallbackId id) {
  std::lock_guard lock(mutex_);
  callbacks_.erase(id);
}

bool CancelSource::sleepFor(std::chrono::steady_clock::duration duration) const {
  std::unique_lock lock(mutex_);
  return !cv_.wait_for(lock, duration, [this] { return cancelled_; });
}

}  // namespace portico
