// CancelSource: a one-shot cancellation signal shared by a long-running call (a watch, a
// backoff sleep) and whoever wants it to stop. Callbacks registered before or after cancel()
// run exactly once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <thread>

#include "operator/base/thread_annotations.h"

namespace portico {

class CancelSource {
public:
  using CallbackId = unsigned long;

  void cancel();
  bool cancelled() const;

  // Runs `callback` on cancel() (at once if already cancelled). Returns an id for unregister.
  CallbackId onCancel(std::function<void()> callback);
  // After it returns the callback will not run and is not running (unless on this very thread).
  void unregister(CallbackId id);

  // Sleeps up to `duration`; returns false if cancelled (at once or during the wait).
  bool sleepFor(std::chrono::steady_clock::duration duration) const;

private:
  mutable Mutex mutex_;
  mutable std::condition_variable cv_;
  bool cancelled_ GUARDED_BY(mutex_) = false;
  CallbackId next_id_ GUARDED_BY(mutex_) = 1;
  std::map<CallbackId, std::function<void()>> callbacks_ GUARDED_BY(mutex_);
  CallbackId running_ GUARDED_BY(mutex_) = 0;  // the callback cancel() is running now
  std::thread::id running_thread_ GUARDED_BY(mutex_);
};

// Unregisters a callback when the scope ends (the callback may reference stack objects).
class CancelRegistration {
public:
  CancelRegistration(CancelSource& source, std::function<void()> callback)
      : source_(source), id_(source.onCancel(std::move(callback))) {}
  ~CancelRegistration() { source_.unregister(id_); }
  CancelRegistration(const CancelRegistration&) = delete;
  CancelRegistration& operator=(const CancelRegistration&) = delete;

private:
  CancelSource& source_;
  CancelSource::CallbackId id_;
};

}  // namespace portico
