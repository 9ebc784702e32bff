#include "operator/proxy/worker.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "operator/proxy/socket_util.h"

namespace portico::proxy {

Worker::Worker(const ProxySettings& settings, const TableSource& tables, int listen_fd, bool tls)
    : settings_(settings), tables_(tables), listen_fd_(listen_fd), tls_(tls) {
  loop_.add(listen_fd_, EPOLLIN, this);
}

Worker::~Worker() {
  connections_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void Worker::onIo(int, uint32_t) noexcept {
  acceptAll();
}

void Worker::acceptAll() {
  for (int i = 0; i < 64; ++i) {  // bounded: other connections get their turn too
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error (EMFILE...): try again next turn
    setNoDelay(fd);
    auto connection = std::make_unique<Connection>(
        *this, fd, addressToString(reinterpret_cast<sockaddr*>(&peer)));
    connection->start();
    connections_.push_back(std::move(connection));
  }
}

void Worker::sweep(std::chrono::steady_clock::time_point now) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    (*it)->checkTimeout(now);
    if ((*it)->finished())
      it = connections_.erase(it);
    else
      ++it;
  }
  pool_.closeExpired(now);
}

void Worker::run(const std::atomic<bool>& stop) {
  auto next_sweep = std::chrono::steady_clock::now();
  while (!stop.load(std::memory_order_relaxed)) {
    // Top of the turn: adopt the newest table. Requests already routed keep theirs.
    if (uint64_t generation = tables_.generation(); generation != table_generation_) {
      table_ = tables_.load();
      table_generation_ = generation;
    }
    loop_.runOnce(std::chrono::milliseconds(50));
    auto now = std::chrono::steady_clock::now();
    if (now >= next_sweep) {
      sweep(now);
      next_sweep = now + std::chrono::milliseconds(100);
    } else {
      // Finished connections are freed between turns, never while their events are dispatched.
      for (auto it = connections_.begin(); it != connections_.end();)
        it = (*it)->finished() ? connections_.erase(it) : std::next(it);
    }
  }
}

Status ProxyServer::start(const ListenerSpec& http, int workers) {
  if (workers < 1) workers = 1;
  uint16_t port = http.port;
  for (int i = 0; i < workers; ++i) {
    SocketAddress address;
    if (!parseAddress(http.address, port, address))
      return Status(ErrorCode::InvalidArgument,
                    "listener address must be an IP literal: " + http.address);
    int fd = listenTcp(address);
    if (fd < 0)
      return Status(ErrorCode::Unavailable, "cannot listen on " + http.address + ":" +
                                                std::to_string(port) + ": " + std::strerror(errno));
    if (port == 0) port = boundPort(fd);  // the other workers share the port picked for the first
    workers_.push_back(std::make_unique<Worker>(settings_, tables_, fd, /*tls=*/false));
  }
  http_port_ = port;
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    threads_.emplace_back([this, w] { w->run(stop_); });
  }
  return Status::ok();
}

void ProxyServer::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  workers_.clear();
}

}  // namespace portico::proxy
