// WorkQueue: the controller's queue of object keys, with client-go's guarantees:
//  - dedup: a key added many times before a worker takes it is processed once (level-based);
//  - a key is never processed by two workers at once: added while processing, it is queued
//    again only when done() is called;
//  - delayed add (requeue_after) and per-key exponential backoff for failures.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "operator/base/backoff.h"
#include "operator/base/clock.h"
#include "operator/base/metrics.h"
#include "operator/base/object_key.h"
#include "operator/base/thread_annotations.h"

namespace portico::runtime {

class WorkQueue {
public:
  explicit WorkQueue(const Clock& clock = SystemClock::instance(),
                     ExponentialBackoff failure_backoff = {std::chrono::milliseconds(5),
                                                           std::chrono::milliseconds(300000), 2.0});

  void add(const ObjectKey& key);
  // Adds after `delay`; an earlier pending delayed add of the same key wins.
  void addAfter(const ObjectKey& key, std::chrono::milliseconds delay);
  // Adds after the key's next backoff delay (5 ms, 10 ms, 20 ms, ... capped).
  void addRateLimited(const ObjectKey& key);
  // Resets the key's failure count (after a success or a terminal error).
  void forget(const ObjectKey& key);
  int failures(const ObjectKey& key) const;

  // Takes the next key, waiting up to `max_wait`. nullopt on timeout or shutdown.
  std::optional<ObjectKey> get(std::chrono::milliseconds max_wait);
  // Must follow every successful get().
  void done(const ObjectKey& key);

  void shutdown();
  // Accepts keys again after shutdown() (leader-only controllers stop and start with the Lease).
  void resume();
  bool shuttingDown() const;

  size_t depth() const;         // keys ready to be taken
  size_t delayedCount() const;  // keys waiting for their time
  // Nothing queued and nothing being processed (delayed keys are future work, not counted):
  // what tests mean by "converged".
  bool idle() const;

  // Names the queue in metrics (portico_workqueue_*{name=...}); unnamed queues record nothing.
  void setMetricsName(std::string name);

private:
  void insertLocked(const ObjectKey& key) REQUIRES(mutex_);
  void pushLocked(const ObjectKey& key) REQUIRES(mutex_);
  void promoteReadyLocked(Clock::MonoTime now) REQUIRES(mutex_);

  const Clock& clock_;
  ExponentialBackoff failure_backoff_;
  mutable Mutex mutex_;
  std::condition_variable cv_;
  std::deque<ObjectKey> queue_ GUARDED_BY(mutex_);
  std::unordered_set<ObjectKey> dirty_
      GUARDED_BY(mutex_);  // queued or to be queued again after processing
  std::unordered_set<ObjectKey> processing_
      GUARDED_BY(mutex_);  // taken by a worker, not yet done()
  std::unordered_map<ObjectKey, Clock::MonoTime> waiting_
      GUARDED_BY(mutex_);  // delayed adds by key
  std::set<std::pair<Clock::MonoTime, ObjectKey>> waiting_order_ GUARDED_BY(mutex_);
  std::unordered_map<ObjectKey, int> failures_ GUARDED_BY(mutex_);
  std::unordered_map<ObjectKey, Clock::MonoTime> queued_at_
      GUARDED_BY(mutex_);  // for the wait-time histogram
  std::string metrics_name_ GUARDED_BY(mutex_);
  metrics::QueueSeries metrics_ GUARDED_BY(mutex_);  // resolved when named
  bool shutting_down_ GUARDED_BY(mutex_) = false;
};

}  // namespace portico::runtime
