// FakeClock: time moves only when a test says so.
#pragma once

#include <atomic>
#include <chrono>

#include "operator/base/clock.h"

namespace portico::testing {

class FakeClock final : public Clock {
public:
  FakeClock()
      : wall_(std::chrono::system_clock::from_time_t(1790000000)), mono_(std::chrono::hours(1)) {}

  WallTime now() const override { return wall_.load(); }
  MonoTime steadyNow() const override { return MonoTime(mono_.load()); }

  void advance(std::chrono::milliseconds d) {
    wall_.store(wall_.load() + d);
    mono_.store(mono_.load() + d);
  }

private:
  std::atomic<WallTime> wall_;
  std::atomic<MonoTime::duration> mono_;
};

}  // namespace portico::testing
