#include "operator/proxy/upstream_pool.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace portico::proxy {

UpstreamPool::~UpstreamPool() {
  for (auto& [endpoint, list] : idle_)
    for (auto& idle : list) ::close(idle.fd);
}

int UpstreamPool::take(const std::string& endpoint) {
  auto it = idle_.find(endpoint);
  if (it == idle_.end()) return -1;
  auto& list = it->second;
  while (!list.empty()) {
    int fd = list.back().fd;  // the most recently used is the most likely alive
    list.pop_back();
    char byte;
    ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return fd;
    ::close(fd);  // EOF, an error, or unexpected bytes: not reusable
  }
  return -1;
}

void UpstreamPool::give(const std::string& endpoint, int fd) {
  auto& list = idle_[endpoint];
  if (list.size() >= max_idle_) {
    ::close(fd);
    return;
  }
  list.push_back({fd, std::chrono::steady_clock::now()});
}

void UpstreamPool::closeExpired(std::chrono::steady_clock::time_point now) {
  for (auto& [endpoint, list] : idle_) {
    size_t kept = 0;
    for (auto& idle : list) {
      if (now - idle.since > idle_timeout_)
        ::close(idle.fd);
      else
        list[kept++] = idle;
    }
    list.resize(kept);
  }
}

uint32_t UpstreamPool::nextIndex(const std::string& backend, size_t count) {
  if (count == 0) return 0;
  return round_robin_[backend]++ % static_cast<uint32_t>(count);
}

size_t UpstreamPool::idleCount() const {
  size_t n = 0;
  for (const auto& [endpoint, list] : idle_) n += list.size();
  return n;
}

}  // namespace portico::proxy
