#include "operator/proxy/worker.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "operator/base/log.h"
#include "operator/proxy/http_forwarding.h"
#include "operator/proxy/socket_util.h"

namespace portico::proxy {

Worker::Worker(const ProxySettings& base, const ExplicitSettings& explicit_flags,
               const TableSource& tables, int http_fd, int https_fd)
    : base_(base), explicit_(explicit_flags), settings_(base), tables_(tables) {
  http_.worker = this;
  http_.fd = http_fd;
  https_.worker = this;
  https_.fd = https_fd;
  https_.tls = true;
  if (http_.fd >= 0) loop_.add(http_.fd, EPOLLIN, &http_);
  if (https_.fd >= 0) loop_.add(https_.fd, EPOLLIN, &https_);
}

Worker::~Worker() {
  connections_.clear();
  finished_.clear();
  retired_.clear();
  if (http_.fd >= 0) ::close(http_.fd);
  if (https_.fd >= 0) ::close(https_.fd);
}

// Connections accepted per listener event. A new connection costs a TLS handshake; accepting one
// per turn (as nginx does by default) lets the requests of established connections go first, so
// a burst of handshakes does not stall them: measured with wrk (50 connections, a resumed TLS
// handshake per request), p50 2-3 ms and p99 6-8 ms instead of 8-14 ms and 17-23 ms with 64 per
// turn, at the same rate. The listener is level-triggered: the rest come on the next turns.
constexpr int kAcceptsPerTurn = 1;

void Worker::acceptAll(Listener& listener) {
  for (int i = 0; i < kAcceptsPerTurn; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listener.fd, reinterpret_cast<sockaddr*>(&peer), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors or memory: the pending connection stays queued and the
      // level-triggered listener would wake every turn for nothing. Rest it until the next
      // sweep (as nginx's accept disabling); established connections go on meanwhile.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        loop_.remove(listener.fd);
        listener.paused = true;
        stats_.countAcceptPause();
      }
      return;  // EAGAIN, or a transient error: try again next turn
    }
    setNoDelay(fd);
    if (listener.tls && !tls_) {  // no TLS contexts yet: nothing to offer
      ::close(fd);
      continue;
    }
    auto connection =
        std::make_unique<Connection>(*this, fd, addressToString(reinterpret_cast<sockaddr*>(&peer)),
                                     listener.tls ? tls_ : nullptr);
    Connection* started = connection.get();
    connections_.emplace(started, std::move(connection));  // before start(): it may end at once
    started->start();
  }
}

void Worker::adoptNewestTable() {
  uint64_t generation = tables_.generation();  // one atomic load when nothing changed
  if (generation == table_generation_) return;
  table_ = tables_.load();
  tls_ = tables_.loadTls();
  table_generation_ = generation;
  // The class's limits and timeouts follow the table: a config change needs no restart.
  settings_ = effectiveSettings(base_, explicit_,
                                table_ ? table_->listeners().proxy : ClassProxySettings{});
  route_series_.assign(table_ ? table_->routes().size() : 0, nullptr);
  default_series_ = nullptr;
}

RequestSeriesPtr Worker::seriesFor(const RouteTable* table, const MatchResult& match) {
  if (!match.found() || !table) {
    if (!unrouted_series_) unrouted_series_ = stats_.series("", "");
    return unrouted_series_;
  }
  if (table != table_.get())  // not expected: a connection routes with the current table
    return stats_.series(match.route ? match.route->source : "", match.backend->name);
  if (!match.route) {
    if (!default_series_) default_series_ = stats_.series("", match.backend->name);
    return default_series_;
  }
  auto index = static_cast<size_t>(match.route - table->routes().data());
  RequestSeriesPtr& slot = route_series_[index];
  if (!slot) slot = stats_.series(match.route->source, match.backend->name);
  return slot;
}

void Worker::recordRequest(const AnsweredRequest& request) {
  (request.series ? request.series : seriesFor(nullptr, MatchResult{}))
      ->record(request.status, request.took);
  stats_.countRequest(request.protocol);
  if (!settings_.access_log) return;
  const auto ms =
      std::chrono::duration_cast<std::chrono::microseconds>(request.took).count() / 1000.0;
  log::info("access", {{"client", std::string(request.client)},
                       {"protocol", request.protocol == ProxyStats::Protocol::Http2 ? "h2" : "h1"},
                       {"method", std::string(request.method)},
                       {"target", std::string(request.target)},
                       {"host", std::string(request.host)},
                       {"status", std::to_string(request.status)},
                       {"backend", std::string(request.backend)},
                       {"duration_ms", std::to_string(ms)}});
}

void Worker::sweep(std::chrono::steady_clock::time_point now) {
  for (auto& entry : connections_) {
    if (draining_) entry.second->closeIfIdle(now);
    entry.second->checkTimeout(now);
  }
  pool_.closeExpired(now);
  for (Listener* listener : {&http_, &https_})
    if (listener->paused && listener->fd >= 0 && loop_.add(listener->fd, EPOLLIN, listener))
      listener->paused = false;
}

void Worker::freeFinished() {
  for (Connection* connection : finished_) connections_.erase(connection);
  finished_.clear();
  retired_.clear();
}

void Worker::closeListeners() {
  for (Listener* listener : {&http_, &https_}) {
    if (listener->fd < 0) continue;
    // Connections the kernel completed for this socket would be reset by close(): take them.
    for (size_t before = connections_.size() + 1; connections_.size() != before;) {
      before = connections_.size();
      acceptAll(*listener);
    }
    if (!listener->paused) loop_.remove(listener->fd);
    ::close(listener->fd);
    listener->fd = -1;
    listener->paused = false;
  }
  listeners_closed_ = true;
}

void Worker::refreshDate() {
  long long second = static_cast<long long>(std::time(nullptr));  // vDSO: no system call
  if (second == date_second_) return;
  date_second_ = second;
  date_ = formatHttpDate(second);
}

void Worker::run(const Shutdown& shutdown) {
  refreshDate();
  auto next_sweep = std::chrono::steady_clock::now();
  while (!shutdown.stop.load(std::memory_order_relaxed)) {
    if (!draining_ && shutdown.draining.load(std::memory_order_relaxed)) {
      draining_ = true;
      next_sweep = now_;  // close the idle connections now
    }
    if (!listeners_closed_ && shutdown.stop_accepting.load(std::memory_order_relaxed))
      closeListeners();
    // Top of the turn, and again when epoll wakes us: adopt the newest table. Requests
    // already routed keep theirs.
    adoptNewestTable();
    loop_.runOnce(
        std::chrono::milliseconds(50),
        [](void* arg) {
          auto* worker = static_cast<Worker*>(arg);
          worker->now_ = std::chrono::steady_clock::now();
          worker->refreshDate();
          worker->adoptNewestTable();
        },
        this);
    now_ = std::chrono::steady_clock::now();
    refreshDate();
    if (now_ >= next_sweep) {
      sweep(now_);
      next_sweep = now_ + std::chrono::milliseconds(100);
    }
    freeFinished();
  }
}

Status ProxyServer::start(const ListenerSpec& http, const std::optional<ListenerSpec>& https,
                          int workers) {
  if (workers < 1) workers = 1;
  open_file_limit_ = raiseOpenFileLimit();
  // Binds one socket of the listener; port 0 becomes the port the first socket got.
  auto bind = [](const ListenerSpec& spec, uint16_t& port, int& fd) -> Status {
    SocketAddress address;
    if (!parseAddress(spec.address, port, address))
      return Status(ErrorCode::InvalidArgument,
                    "listener address must be an IP literal: " + spec.address);
    fd = listenTcp(address);
    if (fd < 0)
      return Status(ErrorCode::Unavailable, "cannot listen on " + spec.address + ":" +
                                                std::to_string(port) + ": " + std::strerror(errno));
    if (port == 0) port = boundPort(fd);
    return Status::ok();
  };
  uint16_t http_port = http.port;
  uint16_t https_port = https ? https->port : 0;
  for (int i = 0; i < workers; ++i) {
    int http_fd = -1, https_fd = -1;
    if (Status st = bind(http, http_port, http_fd); !st) return st;
    if (https) {
      if (Status st = bind(*https, https_port, https_fd); !st) {
        ::close(http_fd);
        return st;
      }
    }
    workers_.push_back(std::make_unique<Worker>(settings_, explicit_, tables_, http_fd, https_fd));
  }
  http_port_ = http_port;
  https_port_ = https_port;
  if (https) settings_.redirect_https_port = https_port;  // redirects name the port we serve
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    threads_.emplace_back([this, w] { w->run({stop_, draining_, stop_accepting_}); });
  }
  return Status::ok();
}

int64_t ProxyServer::activeConnections() const {
  int64_t total = 0;
  for (const auto& worker : workers_) total += worker->stats().activeConnections();
  return total;
}

std::vector<const ProxyStats*> ProxyServer::stats() const {
  std::vector<const ProxyStats*> out;
  for (const auto& worker : workers_) out.push_back(&worker->stats());
  return out;
}

void ProxyServer::pruneStats() {
  auto table = tables_.load();
  if (!table) return;
  const auto live = liveSeriesKeys(*table);
  for (auto& worker : workers_) worker->stats().retainOnly(live);
}

void ProxyServer::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  workers_.clear();
}

}  // namespace portico::proxy
