// Idle keep-alive connections to upstream endpoints, per worker (no locks), and the round-robin
// position of each backend. A connection is checked before reuse (a peer that closed it while
// idle shows as EOF on a non-blocking peek) and idle ones past their time are closed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace portico::proxy {

class UpstreamPool {
public:
  explicit UpstreamPool(size_t max_idle_per_endpoint = 64,
                        std::chrono::seconds idle_timeout = std::chrono::seconds(60))
      : max_idle_(max_idle_per_endpoint), idle_timeout_(idle_timeout) {}
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // An idle, still-open connection to `endpoint` ("ip:port"), or -1.
  int take(const std::string& endpoint);
  // Hands a connection back after a complete exchange; closes it if the pool is full.
  void give(const std::string& endpoint, int fd);
  void closeExpired(std::chrono::steady_clock::time_point now);

  // Next index for round-robin over `count` endpoints of `backend`.
  uint32_t nextIndex(const std::string& backend, size_t count);

  size_t idleCount() const;

private:
  struct Idle {
    int fd;
    std::chrono::steady_clock::time_point since;
  };
  size_t max_idle_;
  std::chrono::seconds idle_timeout_;
  std::unordered_map<std::string, std::vector<Idle>> idle_;
  std::unordered_map<std::string, uint32_t> round_robin_;
};

}  // namespace portico::proxy
