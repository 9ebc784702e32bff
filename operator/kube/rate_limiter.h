// Client-side rate limit of API requests: a token bucket of `burst` tokens refilled at `qps`
// per second, as client-go's default (QPS 5, burst 10 there; ours is set by the caller).
#pragma once

#include <chrono>

#include "operator/base/clock.h"
#include "operator/base/thread_annotations.h"

namespace portico::kube {

class TokenBucket {
public:
  TokenBucket(double qps, int burst, const Clock& clock);

  // Takes one token; returns how long the caller must wait before using it (zero when one was
  // available). Reservations queue up: the bucket may go negative.
  std::chrono::nanoseconds reserve();

private:
  double qps_;
  double burst_;
  const Clock& clock_;
  Mutex mutex_;
  double tokens_ GUARDED_BY(mutex_);
  Clock::MonoTime last_ GUARDED_BY(mutex_);
};

}  // namespace portico::kube
