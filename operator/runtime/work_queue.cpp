#include "operator/runtime/work_queue.h"

#include "operator/base/metrics.h"
#include "operator/base/thread_annotations.h"

namespace portico::runtime {

WorkQueue::WorkQueue(const Clock& clock, ExponentialBackoff failure_backoff)
    : clock_(clock), failure_backoff_(failure_backoff) {}

void WorkQueue::insertLocked(const ObjectKey& key) {
  if (shutting_down_ || dirty_.count(key)) return;
  dirty_.insert(key);
  metrics_.countAdd();
  if (processing_.count(key)) return;  // queued again by done()
  pushLocked(key);
}

void WorkQueue::pushLocked(const ObjectKey& key) {
  queue_.push_back(key);
  if (!metrics_name_.empty()) {
    queued_at_[key] = clock_.steadyNow();
    metrics_.setDepth(queue_.size());
  }
  cv_.notify_one();
}

void WorkQueue::setMetricsName(std::string name) {
  MutexLock lock(mutex_);
  metrics_name_ = std::move(name);
  if (!metrics_name_.empty()) metrics_ = metrics::queueSeries(metrics_name_);
}

void WorkQueue::add(const ObjectKey& key) {
  MutexLock lock(mutex_);
  insertLocked(key);
}

void WorkQueue::addAfter(const ObjectKey& key, std::chrono::milliseconds delay) {
  if (delay.count() <= 0) return add(key);
  MutexLock lock(mutex_);
  if (shutting_down_) return;
  auto ready = clock_.steadyNow() + delay;
  auto it = waiting_.find(key);
  if (it != waiting_.end()) {
    if (it->second <= ready) return;
    waiting_order_.erase({it->second, key});
    it->second = ready;
  } else {
    waiting_.emplace(key, ready);
  }
  waiting_order_.insert({ready, key});
  cv_.notify_all();  // a getter may need to shorten its wait
}

void WorkQueue::addRateLimited(const ObjectKey& key) {
  int attempt;
  {
    MutexLock lock(mutex_);
    attempt = failures_[key]++;
    metrics_.countRetry();
  }
  addAfter(key, failure_backoff_.delay(attempt));
}

void WorkQueue::forget(const ObjectKey& key) {
  MutexLock lock(mutex_);
  failures_.erase(key);
}

int WorkQueue::failures(const ObjectKey& key) const {
  MutexLock lock(mutex_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::promoteReadyLocked(Clock::MonoTime now) {
  while (!waiting_order_.empty() && waiting_order_.begin()->first <= now) {
    ObjectKey key = waiting_order_.begin()->second;
    waiting_order_.erase(waiting_order_.begin());
    waiting_.erase(key);
    insertLocked(key);
  }
}

std::optional<ObjectKey> WorkQueue::get(std::chrono::milliseconds max_wait) {
  auto deadline = std::chrono::steady_clock::now() + max_wait;
  MutexLock lock(mutex_);
  while (true) {
    promoteReadyLocked(clock_.steadyNow());
    if (!queue_.empty()) {
      ObjectKey key = std::move(queue_.front());
      queue_.pop_front();
      dirty_.erase(key);
      processing_.insert(key);
      if (!metrics_name_.empty()) {
        if (auto it = queued_at_.find(key); it != queued_at_.end()) {
          metrics_.recordWait(
              std::chrono::duration<double>(clock_.steadyNow() - it->second).count());
          queued_at_.erase(it);
        }
        metrics_.setDepth(queue_.size());
      }
      return key;
    }
    if (shutting_down_) return std::nullopt;
    auto real_now = std::chrono::steady_clock::now();
    if (real_now >= deadline) return std::nullopt;
    auto wait = deadline - real_now;
    if (!waiting_order_.empty()) {
      auto until_ready = waiting_order_.begin()->first - clock_.steadyNow();
      if (until_ready < wait) wait = until_ready;
    }
    // Never sleep less than a millisecond: a fake clock may not move while we wait.
    lock.waitFor(cv_,
                 std::max<std::chrono::steady_clock::duration>(wait, std::chrono::milliseconds(1)));
  }
}

void WorkQueue::done(const ObjectKey& key) {
  MutexLock lock(mutex_);
  processing_.erase(key);
  if (dirty_.count(key) && !shutting_down_) pushLocked(key);
}

void WorkQueue::shutdown() {
  MutexLock lock(mutex_);
  shutting_down_ = true;
  cv_.notify_all();
}

void WorkQueue::resume() {
  MutexLock lock(mutex_);
  shutting_down_ = false;
}

bool WorkQueue::shuttingDown() const {
  MutexLock lock(mutex_);
  return shutting_down_;
}

size_t WorkQueue::depth() const {
  MutexLock lock(mutex_);
  return queue_.size();
}

bool WorkQueue::idle() const {
  MutexLock lock(mutex_);
  return queue_.empty() && processing_.empty();
}

size_t WorkQueue::delayedCount() const {
  MutexLock lock(mutex_);
  return waiting_.size();
}

}  // namespace portico::runtime
