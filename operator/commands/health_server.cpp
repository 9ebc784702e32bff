#include "operator/commands/health_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "operator/base/log.h"
#include "operator/base/metrics.h"

namespace portico::commands {

HealthServer::HealthServer(std::function<bool()> ready, std::function<void()> refresh)
    : ready_(std::move(ready)), refresh_(std::move(refresh)) {}

HealthServer::~HealthServer() {
  stop();
}

Status HealthServer::start(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return Status(ErrorCode::InvalidArgument, "metrics address must be host:port, not " + address);
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      rc != 0)
    return Status(ErrorCode::InvalidArgument, address + ": " + gai_strerror(rc));
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
    std::string error = std::strerror(errno);
    freeaddrinfo(found);
    if (fd >= 0) ::close(fd);
    return Status(ErrorCode::Unavailable, "metrics address " + address + ": " + error);
  }
  freeaddrinfo(found);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listen_fd_ = fd;
  thread_ = std::thread([this] { serve(); });
  log::info("health and metrics endpoint listening",
            {{"address", host + ":" + std::to_string(port_)}});
  return Status::ok();
}

void HealthServer::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

void HealthServer::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval timeout{2, 0};  // a slow client cannot hold the one thread for long
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    answer(fd);
    ::close(fd);
  }
}

void HealthServer::answer(int fd) {
  std::string request;
  char buffer[2048];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    request.append(buffer, static_cast<size_t>(n));
  }
  std::string target;
  if (auto sp = request.find(' '); sp != std::string::npos)
    target = request.substr(sp + 1, request.find(' ', sp + 1) - sp - 1);
  if (auto q = target.find('?'); q != std::string::npos) target.resize(q);

  int code = 200;
  std::string type = "text/plain; charset=utf-8", body;
  if (target == "/healthz" || target == "/livez") {
    body = "ok\n";
  } else if (target == "/readyz") {
    bool ready = ready_();
    code = ready ? 200 : 503;
    body = ready ? "ok\n" : "not ready: caches syncing or no snapshot served yet\n";
  } else if (target == "/metrics") {
    type = "text/plain; version=0.0.4; charset=utf-8";
    if (refresh_) refresh_();
    body = metrics::exposition();
  } else {
    code = 404;
    body = "not found\n";
  }
  std::string head = "HTTP/1.1 " + std::to_string(code) +
                     (code == 200   ? " OK"
                      : code == 503 ? " Service Unavailable"
                                    : " Not Found") +
                     "\r\nContent-Type: " + type +
                     "\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\nConnection: close\r\n\r\n";
  std::string response = head + body;
  size_t sent = 0;
  while (sent < response.size()) {
    ssize_t n = ::send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace portico::commands
