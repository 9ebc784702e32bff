// Bounded wait for a condition that another thread or process makes true. Tests use this
// instead of sleeping: it returns as soon as the condition holds, and gives up at `limit`.
#pragma once

#include <chrono>
#include <thread>

namespace portico::testing {

template <typename F>
bool eventually(F condition, std::chrono::milliseconds limit = std::chrono::milliseconds(5000),
                std::chrono::milliseconds poll = std::chrono::milliseconds(2)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

}  // namespace portico::testing
