// EventLoop: one epoll instance per worker thread. Handlers are registered per file descriptor;
// runOnce() waits at most `max_wait` and dispatches what is ready, so the worker's loop is
// written out in one place (h2o style) and can do its own work between turns.
#pragma once

#include <chrono>
#include <cstdint>

namespace portico::proxy {

class IoHandler {
public:
  virtual ~IoHandler() = default;
  // `events` holds EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP/EPOLLRDHUP bits. Never throws.
  virtual void onIo(uint32_t events) noexcept = 0;
};

class EventLoop {
public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  bool valid() const { return epoll_fd_ >= 0; }
  // Level-triggered registration (no EPOLLET); `handler` must outlive the registration.
  bool add(int fd, uint32_t events, IoHandler* handler);
  bool modify(int fd, uint32_t events, IoHandler* handler);
  void remove(int fd);

  // Returns the number of events dispatched.
  int runOnce(std::chrono::milliseconds max_wait);
  // Likewise, calling `after_wait(arg)` between the wait and the dispatch (the worker adopts a
  // table published while it slept, so the events it was woken for see the newest one).
  int runOnce(std::chrono::milliseconds max_wait, void (*after_wait)(void*), void* arg);

private:
  int epoll_fd_ = -1;
};

}  // namespace portico::proxy
