// The data plane's threads. A TableSource holds the newest RouteTable; each Worker owns one
// EventLoop, its SO_REUSEPORT listener, its connections and its upstream pool, and adopts a new
// table at the top of a loop turn (one atomic load when nothing changed). ProxyServer starts
// and stops the workers.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "operator/base/status.h"
#include "operator/base/thread_annotations.h"
#include "operator/proxy/connection.h"
#include "operator/proxy/event_loop.h"
#include "operator/proxy/proxy_settings.h"
#include "operator/proxy/proxy_stats.h"
#include "operator/proxy/route_table.h"
#include "operator/proxy/tls_store.h"
#include "operator/proxy/upstream_pool.h"

namespace portico::proxy {

// The newest RouteTable and the TLS contexts built for it, swapped together.
class TableSource {
public:
  void publish(RouteTableConstSharedPtr table, std::shared_ptr<const TlsStore> tls) {
    MutexLock lock(mutex_);
    table_ = std::move(table);
    tls_ = std::move(tls);
    generation_.fetch_add(1, std::memory_order_release);
  }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  RouteTableConstSharedPtr load() const {
    MutexLock lock(mutex_);
    return table_;
  }
  std::shared_ptr<const TlsStore> loadTls() const {
    MutexLock lock(mutex_);
    return tls_;
  }

private:
  mutable Mutex mutex_;  // taken only when the generation moved
  RouteTableConstSharedPtr table_ GUARDED_BY(mutex_);
  std::shared_ptr<const TlsStore> tls_ GUARDED_BY(mutex_);
  std::atomic<uint64_t> generation_{0};
};

class Worker {
public:
  // `https_fd` may be -1 (no TLS listener). The worker's settings are `base` with the current
  // table's class settings applied (but not over `explicit_flags`), recomputed at adoption.
  Worker(const ProxySettings& base, const ExplicitSettings& explicit_flags,
         const TableSource& tables, int http_fd, int https_fd);
  ~Worker();

  // Graceful shutdown, as ProxyServer::drain and stopAccepting set them.
  struct Shutdown {
    const std::atomic<bool>& stop;
    const std::atomic<bool>& draining;
    const std::atomic<bool>& stop_accepting;
  };
  void run(const Shutdown& shutdown);

  EventLoop& loop() { return loop_; }
  UpstreamPool& pool() { return pool_; }
  const ProxySettings& settings() const { return settings_; }
  const RouteTableConstSharedPtr& currentTable() const { return table_; }
  size_t connectionCount() const { return connections_.size(); }
  // Draining (shutting down): responses end their connection, idle connections are closed.
  bool draining() const { return draining_; }
  // Called by a connection the moment it ends: it is freed after the turn, never while its
  // events are being dispatched, and without a walk over every connection.
  void connectionFinished(Connection* connection) { finished_.push_back(connection); }
  // The same for parts of a connection (an HTTP/2 stream, an upstream exchange) that end while
  // their own calls may still be on the stack: freed after the turn.
  void retire(std::shared_ptr<void> object) { retired_.push_back(std::move(object)); }
  // The time of this loop turn, read once when epoll_wait returns (as nginx and h2o do):
  // timeouts are whole seconds, and request durations are measured from the turn that read
  // the request to the turn that finished it. Saves several clock reads per request.
  std::chrono::steady_clock::time_point now() const { return now_; }
  // The Date of this loop turn's second (RFC 9110 §6.6.1 IMF-fixdate), formatted once a second.
  std::string_view httpDate() const { return date_; }
  ProxyStats& stats() { return stats_; }
  const ProxyStats& stats() const { return stats_; }
  // The statistics series of a request routed by `table` (the worker's current table: a
  // connection routes with it) to `match`; requests no route served share one series.
  RequestSeriesPtr seriesFor(const RouteTable* table, const MatchResult& match);
  // A request answered, HTTP/1.1 or HTTP/2: counted in its series (null: the unrouted one) and
  // by protocol, and one access log line when the access log is on.
  struct AnsweredRequest {
    const RequestSeriesPtr& series;
    ProxyStats::Protocol protocol;
    int status;
    std::chrono::steady_clock::duration took;
    std::string_view client;
    std::string_view method;
    std::string_view target;
    std::string_view host;
    std::string_view backend;
  };
  void recordRequest(const AnsweredRequest& request);

private:
  struct Listener final : IoHandler {
    Worker* worker = nullptr;
    int fd = -1;
    bool tls = false;
    bool paused = false;  // out of descriptors: off epoll until the next sweep
    void onIo(uint32_t) noexcept override { worker->acceptAll(*this); }
  };
  void acceptAll(Listener& listener);
  void adoptNewestTable();
  void refreshDate();
  void sweep(std::chrono::steady_clock::time_point now);
  void freeFinished();
  // Accepts what is already queued on the listeners, then closes them.
  void closeListeners();

  const ProxySettings& base_;
  const ExplicitSettings& explicit_;
  ProxySettings settings_;
  const TableSource& tables_;
  Listener http_;
  Listener https_;
  ProxyStats stats_;
  // Series by route index of the current table (resolved on first use), and the default
  // backend's and the unrouted requests' series.
  std::vector<RequestSeriesPtr> route_series_;
  RequestSeriesPtr default_series_;
  RequestSeriesPtr unrouted_series_;
  EventLoop loop_;
  UpstreamPool pool_;
  RouteTableConstSharedPtr table_;
  std::shared_ptr<const TlsStore> tls_;
  uint64_t table_generation_ = 0;
  bool draining_ = false;
  bool listeners_closed_ = false;
  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::now();
  long long date_second_ = -1;
  std::string date_;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> finished_;  // ended this turn, freed before the next
  std::vector<std::shared_ptr<void>> retired_;
};

struct ListenerSpec {
  std::string address = "0.0.0.0";
  uint16_t port = 0;  // 0: any free port (see ProxyServer::httpPort)
};

class ProxyServer {
public:
  ProxyServer(ProxySettings settings, const TableSource& tables,
              ExplicitSettings explicit_flags = {})
      : settings_(settings), explicit_(explicit_flags), tables_(tables) {}
  ~ProxyServer() { stop(); }

  // Binds one SO_REUSEPORT socket per worker on each listener and starts the workers.
  // `https` is optional.
  Status start(const ListenerSpec& http, const std::optional<ListenerSpec>& https, int workers);
  void stop();
  uint16_t httpPort() const { return http_port_; }
  uint16_t httpsPort() const { return https_port_; }
  uint64_t openFileLimit() const { return open_file_limit_; }  // raised to the hard limit
  // Graceful shutdown. drain(): every response from now on ends its connection and idle
  // keep-alive connections are closed (clients move to another replica); the listeners still
  // accept. stopAccepting(): the listeners are closed (after taking what is queued on them).
  // Requests in flight and WebSocket tunnels go on until stop().
  void drain() { draining_ = true; }
  void stopAccepting() { stop_accepting_ = true; }
  int64_t activeConnections() const;
  // Every worker's statistics, for a scrape (valid until stop()).
  std::vector<const ProxyStats*> stats() const;
  // Drops the series the current table can no longer produce (deleted Ingresses, Services).
  void pruneStats();

private:
  ProxySettings settings_;
  ExplicitSettings explicit_;
  const TableSource& tables_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> draining_{false};
  std::atomic<bool> stop_accepting_{false};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  uint16_t http_port_ = 0;
  uint16_t https_port_ = 0;
  uint64_t open_file_limit_ = 0;
};

}  // namespace portico::proxy
