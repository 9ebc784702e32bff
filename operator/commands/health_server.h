// HealthServer: the operator's small HTTP endpoint for probes and scraping:
//   /healthz  200 while the process runs its loops (liveness)
//   /readyz   200 once caches are synced and a snapshot is served, else 503 (readiness)
//   /metrics  Prometheus text format (operator/base/metrics)
// One thread, blocking sockets with short timeouts: it serves kubelets and Prometheus, not users.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "operator/base/status.h"

namespace portico::commands {

class HealthServer {
public:
  // `refresh` runs before each scrape to bring gauges up to date; /metrics serves
  // metrics::exposition().
  HealthServer(std::function<bool()> ready, std::function<void()> refresh = {});
  ~HealthServer();

  // "host:port" (":port" = every address); port 0 picks a free one.
  Status start(const std::string& address);
  void stop();
  uint16_t port() const { return port_; }

private:
  void serve();
  void answer(int fd);

  std::function<bool()> ready_;
  std::function<void()> refresh_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace portico::commands
