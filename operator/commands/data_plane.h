// DataPlane: the proxy serving a snapshot file — `portico proxy` alone, or embedded in
// `portico operator` / `portico local` (which publish into the same file: the snapshot is the
// only contract between the two planes, whether they share a process or not). It waits for the
// first valid snapshot, binds the listeners (flags override the snapshot's), then follows the
// file: each new generation is validated, its TLS contexts built off the workers' path, and
// handed to the workers.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "operator/base/cancel.h"
#include "operator/base/status.h"
#include "operator/base/thread_annotations.h"
#include "operator/proxy/proxy_settings.h"

namespace portico::proxy {
class ProxyServer;
class ProxyStats;
}  // namespace portico::proxy

namespace portico::commands {

struct DataPlaneOptions {
  std::string snapshot_path;
  std::string http_address;       // default: the snapshot's listener address
  int http_port = -1;             // default: the snapshot's listener port; 0 picks a free one
  int https_port = -1;            // likewise for HTTPS; -2 disables the TLS listener
  int workers = 0;                // default: one per core
  proxy::ProxySettings settings;  // until a snapshot names the class's settings
  proxy::ExplicitSettings explicit_settings;  // set on the command line: they win over the class's
  // Graceful shutdown when `stop` fires: not ready and draining at once (responses end their
  // connections, idle ones close), still accepting for `shutdown_delay` (while Kubernetes takes
  // the replica out of its Service), then no new connections; requests in flight and
  // WebSockets get until `shutdown_grace` after the stop.
  std::chrono::milliseconds shutdown_delay{0};
  std::chrono::milliseconds shutdown_grace{25000};
};

class DataPlane {
public:
  explicit DataPlane(DataPlaneOptions options) : options_(std::move(options)) {}

  // Blocks until `stop` fires, then drains (DataPlaneOptions) unless `hurry` fires too.
  // `on_listening` gets "http://addr:port[ and https://addr:port]".
  Status run(CancelSource& stop, const std::function<void(const std::string&)>& on_listening = {},
             const CancelSource* hurry = nullptr);

  bool serving() const { return serving_.load(); }
  // Polls of the snapshot file that found a corrupt, torn or foreign one after the first good
  // table (the last good one stayed in service each time).
  uint64_t rejectedSnapshots() const { return rejected_snapshots_.load(std::memory_order_relaxed); }
  uint64_t generation() const { return generation_.load(); }

  // Called (on the snapshot follower's thread) when the workers are handed a new generation.
  // Set before run().
  void onAdopted(std::function<void(uint64_t generation)> callback) {
    on_adopted_ = std::move(callback);
  }
  // Visits every worker's statistics while the proxy serves, after dropping the series of
  // Ingresses and Services no longer routed; nothing otherwise.
  void visitStats(const std::function<void(const proxy::ProxyStats&)>& visit);

private:
  void drain(proxy::ProxyServer& server, const CancelSource* hurry);

  DataPlaneOptions options_;
  std::function<void(uint64_t)> on_adopted_;
  mutable Mutex server_mutex_;  // guards server_ against a scrape during start and stop
  proxy::ProxyServer* server_ GUARDED_BY(server_mutex_) = nullptr;
  std::atomic<bool> serving_{false};
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> rejected_snapshots_{0};
};

}  // namespace portico::commands
