// Time is passed in: production code takes a Clock&, tests a FakeClock (tests/fakes/fake_clock.h).
#pragma once

#include <chrono>

namespace portico {

class Clock {
public:
  using WallTime = std::chrono::system_clock::time_point;
  using MonoTime = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  // Wall-clock time, for timestamps that leave the process (Lease renewTime, status times).
  virtual WallTime now() const = 0;
  // Monotonic time, for deadlines and backoff inside the process.
  virtual MonoTime steadyNow() const = 0;
};

class SystemClock final : public Clock {
public:
  WallTime now() const override { return std::chrono::system_clock::now(); }
  MonoTime steadyNow() const override { return std::chrono::steady_clock::now(); }

  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

}  // namespace portico
