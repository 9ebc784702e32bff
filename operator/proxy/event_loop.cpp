#include "operator/proxy/event_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace portico::proxy {

EventLoop::EventLoop() : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {}

EventLoop::~EventLoop() {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

bool EventLoop::add(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool EventLoop::modify(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

int EventLoop::runOnce(std::chrono::milliseconds max_wait) {
  return runOnce(max_wait, nullptr, nullptr);
}

int EventLoop::runOnce(std::chrono::milliseconds max_wait, void (*after_wait)(void*), void* arg) {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  int n = epoll_wait(epoll_fd_, events, kMaxEvents, static_cast<int>(max_wait.count()));
  if (n < 0) return errno == EINTR ? 0 : -1;
  if (after_wait && n > 0) after_wait(arg);
  for (int i = 0; i < n; ++i) {
    static_cast<IoHandler*>(events[i].data.ptr)->onIo(events[i].events);
  }
  return n;
}

}  // namespace portico::proxy
