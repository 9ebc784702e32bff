// Exponential backoff with optional jitter: delay(n) = min(initial * factor^n, max).
// Pure and deterministic given the jitter fraction passed in (tests pass 0).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>

namespace portico {

struct ExponentialBackoff {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds max{30000};
  double factor = 2.0;

  // `attempt` counts from 0. `jitter01` in [0,1) adds up to +50% to spread out thundering herds.
  std::chrono::milliseconds delay(int attempt, double jitter01 = 0.0) const {
    double ms = static_cast<double>(initial.count()) * std::pow(factor, std::min(attempt, 62));
    ms = std::min(ms, static_cast<double>(max.count()));
    ms *= 1.0 + 0.5 * jitter01;
    return std::chrono::milliseconds(static_cast<long long>(ms));
  }
};

// Uniform jitter source in [0,1), thread-safe.
double randomJitter();

}  // namespace portico
