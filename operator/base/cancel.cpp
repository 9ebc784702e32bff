#include "operator/base/cancel.h"

#include <vector>

namespace portico {

void CancelSource::cancel() {
  MutexLock lock(mutex_);
  if (cancelled_) return;
  cancelled_ = true;
  cv_.notify_all();
  // One callback at a time, each taken out of the map only when it runs, so unregister() can
  // tell "never ran" (erase it) from "running now" (wait for it: it may use the caller's stack).
  while (!callbacks_.empty()) {
    auto node = callbacks_.extract(callbacks_.begin());
    running_ = node.key();
    running_thread_ = std::this_thread::get_id();
    lock.unlock();
    // Cancellation cannot fail: a callback that throws must not stop the others (or unwind the
    // canceller's stack past a joinable thread).
    try {
      node.mapped()();
    } catch (...) {
    }
    lock.lock();
    running_ = 0;
    cv_.notify_all();
  }
}

bool CancelSource::cancelled() const {
  MutexLock lock(mutex_);
  return cancelled_;
}

CancelSource::CallbackId CancelSource::onCancel(std::function<void()> callback) {
  {
    MutexLock lock(mutex_);
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
  MutexLock lock(mutex_);
  callbacks_.erase(id);
  // Like std::stop_callback: wait for a callback that is running on another thread (a callback
  // that unregisters itself must not wait for itself).
  while (id != 0 && running_ == id && running_thread_ != std::this_thread::get_id()) lock.wait(cv_);
}

bool CancelSource::sleepFor(std::chrono::steady_clock::duration duration) const {
  MutexLock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + duration;
  while (!cancelled_)
    if (lock.waitUntil(cv_, deadline) == std::cv_status::timeout) break;
  return !cancelled_;
}

}  // namespace portico
