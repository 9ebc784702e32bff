// Connection: the client side over TLS (OpenSSL on the non-blocking socket, the handshake).
#include "operator/proxy/connection.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "operator/proxy/http_forwarding.h"
#include "operator/proxy/socket_util.h"
#include "operator/proxy/worker.h"

namespace portico::proxy {

ssize_t Connection::clientRecv(char* buffer, size_t size) {
  if (!ssl_) {
    ssize_t n = ::recv(client_fd_.get(), buffer, size, 0);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return -1;
    return -2;
  }
  size_t got = 0;
  if (SSL_read_ex(ssl_.get(), buffer, size, &got) == 1) return static_cast<ssize_t>(got);
  switch (SSL_get_error(ssl_.get(), 0)) {
    case SSL_ERROR_WANT_READ: return -1;
    case SSL_ERROR_WANT_WRITE: tls_want_write_ = true; return -1;
    case SSL_ERROR_ZERO_RETURN: return 0;
    default:
      ERR_clear_error();
      tls_failed_ = true;
      return errno == 0 ? 0 : -2;
  }
}

ssize_t Connection::clientSend(const char* buffer, size_t size) {
  if (!ssl_) {
    ssize_t n = ::send(client_fd_.get(), buffer, size, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return -1;
    return -2;
  }
  size_t sent = 0;
  if (SSL_write_ex(ssl_.get(), buffer, size, &sent) == 1) return static_cast<ssize_t>(sent);
  switch (SSL_get_error(ssl_.get(), 0)) {
    case SSL_ERROR_WANT_WRITE: tls_want_write_ = true; return -1;
    case SSL_ERROR_WANT_READ: return -1;
    default:
      ERR_clear_error();
      tls_failed_ = true;
      return -2;
  }
}

bool Connection::continueHandshake() {
  if (handshake_done_) return true;
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) {
    handshake_done_ = true;
    worker_.stats().countHandshake(SSL_session_reused(ssl_.get()) == 1);
    const unsigned char* protocol = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl_.get(), &protocol, &length);
    if (length == 2 && std::memcmp(protocol, "h2", 2) == 0) startHttp2();
    return phase_ != Phase::Done;
  }
  switch (int error = SSL_get_error(ssl_.get(), r)) {
    case SSL_ERROR_WANT_READ: return false;
    case SSL_ERROR_WANT_WRITE: tls_want_write_ = true; return false;
    default:
      // No certificate for the name, a protocol the client cannot speak, a scanner: just close.
      worker_.stats().countHandshakeFailure(classifyHandshakeFailure(error, ERR_peek_error()));
      ERR_clear_error();
      handshake_done_ = true;  // nothing to shut down politely
      ssl_.reset();
      close();
      return false;
  }
}

}  // namespace portico::proxy
