// Small, non-throwing socket helpers for the data plane.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace portico::proxy {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

// "127.0.0.1", "::1", "0.0.0.0" + port → address; false for anything else (no DNS here).
bool parseAddress(const std::string& ip, uint16_t port, SocketAddress& out);
std::string addressToString(const sockaddr* addr);  // the IP alone ("::1", "10.0.0.1")

// A non-blocking listening socket with SO_REUSEPORT (one per worker) and SO_REUSEADDR.
// Returns -1 with errno set. Port 0 picks a free port (see boundPort).
int listenTcp(const SocketAddress& address, int backlog = 1024);
uint16_t boundPort(int fd);

// Starts a non-blocking connect; returns the fd (connection may still be in progress), or -1.
int connectTcp(const SocketAddress& address);

void setNoDelay(int fd);

// Reads what a non-blocking socket holds into `into` until it would block, `into` reaches
// `high_water`, or a short read shows it drained (level-triggered epoll reports what follows).
// True at the end of the stream or on an error: the peer is gone.
bool readAvailable(int fd, std::string& into, size_t high_water);

// Raises this process's open-file limit to its hard limit (a proxy holds two descriptors per
// proxied request; the usual soft limit is 1024). Returns the limit now in force.
uint64_t raiseOpenFileLimit();

}  // namespace portico::proxy
