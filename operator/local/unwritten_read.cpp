#include "operator/local/unwritten_read.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace portico::local {

namespace {

struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

bool readAll(int fd, std::string& out) {
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    out.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

UnwrittenRead readUnlessBeingWritten(const std::string& path) {
  static std::once_flag ignore_lease_breaks;
  std::call_once(ignore_lease_breaks, [] { ::signal(SIGIO, SIG_IGN); });

  UnwrittenRead result;
  Descriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    result.error = path + ": cannot be read: " + std::strerror(errno);
    return result;
  }
  const bool leased = ::fcntl(file.fd, F_SETLEASE, F_RDLCK) == 0;
  if (!leased && (errno == EAGAIN || errno == EBUSY)) {  // open for writing somewhere
    result.outcome = UnwrittenRead::Outcome::BeingWritten;
    return result;
  }
  // Not leased for another reason (EACCES: not the owner; EINVAL: no leases here): read as is.
  const bool complete = readAll(file.fd, result.text);
  const int read_errno = errno;
  if (leased) (void)::fcntl(file.fd, F_SETLEASE, F_UNLCK);
  if (!complete) {
    result.error = path + ": cannot be read: " + std::strerror(read_errno);
    result.text.clear();
    return result;
  }
  result.outcome = UnwrittenRead::Outcome::Read;
  return result;
}

}  // namespace portico::local
