#include "operator/proxy/connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "operator/proxy/http_forwarding.h"
#include "operator/proxy/socket_util.h"
#include "operator/proxy/worker.h"

namespace portico::proxy {

Connection::Connection(Worker& worker, int client_fd, std::string client_ip,
                       std::shared_ptr<const TlsStore> tls)
    : worker_(worker),
      client_fd_(client_fd),
      client_ip_(std::move(client_ip)),
      tls_store_(std::move(tls)) {
  client_side_.owner = this;
  client_side_.upstream = false;
  upstream_side_.owner = this;
  upstream_side_.upstream = true;
  worker_.stats().connectionOpened();
}

Connection::~Connection() {
  close();
}

void Connection::start() {
  request_start_ = worker_.now();
  deadline_ = request_start_ + worker_.settings().header_timeout;
  if (tls_store_) {
    ssl_.reset(SSL_new(tls_store_->acceptContext()));
    if (!ssl_ || SSL_set_fd(ssl_.get(), client_fd_.get()) != 1) {
      close();
      return;
    }
    SSL_set_accept_state(ssl_.get());
    handshake_done_ = false;
  }
  client_events_ = EPOLLIN | EPOLLRDHUP;
  if (!worker_.loop().add(client_fd_.get(), client_events_, &client_side_)) close();
}

void Connection::close() {
  const bool was_open = phase_ != Phase::Done;
  if (h2_) h2_->abandonAll();
  if (upstream_fd_.valid()) closeUpstream(upstream_parked_);  // a parked one is healthy: pool it
  if (ssl_) {
    // Best-effort close_notify, never waiting, and not on a connection that already failed.
    if (handshake_done_ && !tls_failed_) SSL_shutdown(ssl_.get());
    ssl_.reset();
  }
  if (client_fd_.valid()) {
    worker_.loop().remove(client_fd_.get());
    client_fd_.reset();
    worker_.stats().connectionClosed();
  }
  phase_ = Phase::Done;
  if (was_open) worker_.connectionFinished(this);
}

void Connection::closeIfIdle(std::chrono::steady_clock::time_point now) {
  if (phase_ == Phase::Http2) {  // GOAWAY: the client opens no more streams here
    h2_->shutdown();
    writeHttp2();
    if (phase_ == Phase::Http2 && h2_->openStreams() == 0 && client_out_.size() == client_out_sent_)
      close();
    return;
  }
  // Between the requests of a kept-alive connection; a connection accepted a moment ago has
  // its first request on the way, so it gets a second to send a byte of it.
  if (phase_ == Phase::ReadHead && client_in_.empty() && client_out_.size() == client_out_sent_ &&
      (answered_ || now - request_start_ >= std::chrono::seconds(1)))
    close();
}

void Connection::checkTimeout(std::chrono::steady_clock::time_point now) {
  if (phase_ == Phase::Http2) {
    h2_->checkTimeout(now);  // each stream's upstream (a 504 may be due)
    writeHttp2();
    if (phase_ == Phase::Http2 && h2_->openStreams() == 0 && now >= deadline_) close();
    return;
  }
  if (phase_ == Phase::Done || now < deadline_) return;
  switch (phase_) {
    case Phase::ReadHead:
      if (client_in_.empty())
        close();  // idle keep-alive connection: just close
      else
        respondLocally(408, reasonPhrase(408), "request head not received in time\n", true);
      break;
    case Phase::Connecting:
      closeUpstream(false);  // this endpoint is too slow to accept: try the next
      if (!connectNext()) upstreamFailed(504, UpstreamError::Timeout);
      break;
    case Phase::Forwarding:
      if (response_.head_done)
        close();  // mid-response: nothing sensible to send any more
      else if (!request_.body_done && upstream_out_.size() == upstream_out_sent_ &&
               client_in_.empty())
        respondLocally(408, reasonPhrase(408), "request body not received in time\n", true);
      else
        upstreamFailed(504, UpstreamError::Timeout);
      break;
    case Phase::Http2:   // handled above
    case Phase::Tunnel:  // nothing either way for upstream_timeout
    case Phase::Flushing:
    case Phase::Done: close(); break;
  }
}

void Connection::onIo(bool upstream, uint32_t events) {
  if (phase_ == Phase::Done) return;
  if (upstream) {
    if (upstream_parked_) {  // an idle upstream spoke or closed: not reusable any more
      closeUpstream(false);
      return;
    }
    if (phase_ == Phase::Connecting) {
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
        int error = 0;
        socklen_t len = sizeof error;
        getsockopt(upstream_fd_.get(), SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) {
          closeUpstream(false);
          if (!connectNext()) upstreamFailed(502, UpstreamError::ConnectFailed);
          return;
        }
        onUpstreamConnected();
      }
      return;
    }
    if (events & EPOLLOUT) {
      if (!flushUpstream()) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readUpstream();
  } else {
    tls_want_write_ = false;
    if (ssl_ && !handshake_done_) {
      if (!continueHandshake()) {
        if (phase_ != Phase::Done) updateInterest();
        return;
      }
    }
    if (events & EPOLLOUT) {
      if (!flushClient()) return;
    }
    // TLS may hold decrypted bytes the socket no longer signals: always try to read then.
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) || ssl_) readClient();
  }
  if (phase_ == Phase::ReadHead || phase_ == Phase::Forwarding || phase_ == Phase::Tunnel ||
      phase_ == Phase::Http2)
    processBuffered();
  if (phase_ != Phase::Done) updateInterest();
}

void Connection::readClient() {
  // Backpressure: while the upstream has not taken what we hold, leave the client's bytes in
  // its socket (interest is off; an event reported before that may still come once).
  if (upstream_out_.size() - upstream_out_sent_ >= worker_.settings().buffer_high_water) return;
  char buf[16384];
  while (true) {
    ssize_t n = clientRecv(buf, sizeof buf);
    if (n > 0) {
      client_in_.append(buf, static_cast<size_t>(n));
      // A short plain read drained the socket: level-triggered epoll reports anything that
      // follows, so skip the recv() that would only say EAGAIN. (TLS may still hold bytes.)
      if ((!ssl_ && static_cast<size_t>(n) < sizeof buf) ||
          client_in_.size() >= worker_.settings().buffer_high_water)
        break;
      continue;
    }
    if (n == 0) {
      client_eof_ = true;
      break;
    }
    if (n == -1) break;
    close();
    return;
  }
  processBuffered();
  if (phase_ == Phase::Done) return;
  if (client_eof_ && phase_ == Phase::ReadHead && client_in_.empty() &&
      client_out_.size() == client_out_sent_)
    close();
  else if (client_eof_ && phase_ == Phase::Http2 && client_out_.size() == client_out_sent_)
    close();  // the client left: its streams go with it
  // The client ended the tunnel: close once the backend has what it sent (see flushUpstream).
  else if (client_eof_ && phase_ == Phase::Tunnel && upstream_out_.size() == upstream_out_sent_)
    close();
}

// Starts every complete request that is buffered (pipelining), one at a time, while the
// client keeps up with the answers; then moves request body bytes along.
void Connection::processBuffered() {
  if (phase_ == Phase::Http2) {
    processHttp2();
    return;
  }
  if (phase_ == Phase::Tunnel) {
    relayTunnel();
    return;
  }
  while (phase_ == Phase::ReadHead && !client_in_.empty() &&
         client_out_.size() - client_out_sent_ < worker_.settings().buffer_high_water) {
    size_t before = client_in_.size();
    startRequest();
    if (phase_ == Phase::ReadHead && client_in_.size() == before) break;  // head incomplete
  }
  if (phase_ == Phase::Forwarding) forwardRequestBody();
}

std::string_view Connection::hstsValue() const {
  if (!isTls() || !route_.table) return {};
  return route_.table->listeners().hsts;
}

void Connection::respondLocally(int status, std::string_view reason, std::string_view body,
                                bool close_after, std::string_view extra_headers) {
  response_.status = status;
  if (!client_keep_alive_ || worker_.draining()) close_after = true;
  std::string& out = client_out_;
  out += "HTTP/1.1 " + std::to_string(status) + " ";
  out += reason;
  out += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n";
  // RFC 9110 §6.6.1: a server with a clock sends Date.
  out += "Date: ";
  out += worker_.httpDate();
  out += "\r\n";
  if (const std::string& server = worker_.settings().server_header; !server.empty()) {
    out += "Server: ";
    out += server;
    out += "\r\n";
  }
  out += extra_headers;
  if (std::string_view hsts = hstsValue(); !hsts.empty()) {
    out += "Strict-Transport-Security: ";
    out += hsts;
    out += "\r\n";
  }
  if (close_after)
    out += "Connection: close\r\n";
  else if (request_head_.version_minor == 0)
    out += "Connection: keep-alive\r\n";  // RFC 9112 §9.3: a 1.0 client closes unless told
  out += "\r\n";
  if (request_.method != "HEAD") out += body;
  logAccess(status);
  if (close_after) {
    phase_ = Phase::Flushing;
    client_in_.clear();
    deadline_ = worker_.now() + worker_.settings().idle_timeout;
  } else {
    phase_ = Phase::ReadHead;
    deadline_ = worker_.now() + worker_.settings().idle_timeout;
  }
  flushClient();
}

bool Connection::flushClient() {
  if (ssl_ && !handshake_done_) return true;
  while (client_out_sent_ < client_out_.size()) {
    ssize_t n =
        clientSend(client_out_.data() + client_out_sent_, client_out_.size() - client_out_sent_);
    if (n > 0) {
      client_out_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n == -1) return true;
    close();
    return false;
  }
  client_out_.clear();
  client_out_sent_ = 0;
  if (phase_ == Phase::Flushing) {
    if (!ssl_) ::shutdown(client_fd_.get(), SHUT_WR);
    close();  // TLS: close() sends close_notify
    return false;
  }
  // The client took the response: let the upstream send more.
  return true;
}

void Connection::finishExchange() {
  logAccess(response_.status);
  route_.table.reset();
  route_.backend = nullptr;
  if (!client_keep_alive_ || !request_.body_done || worker_.draining()) {
    phase_ = Phase::Flushing;
    client_in_.clear();
    flushClient();
    return;
  }
  phase_ = Phase::ReadHead;
  deadline_ = worker_.now() + worker_.settings().idle_timeout;
  flushClient();
}

void Connection::updateInterest() {
  if (client_fd_.valid()) {
    uint32_t events = client_eof_ ? 0u : static_cast<uint32_t>(EPOLLRDHUP);
    bool client_pending = client_out_.size() > client_out_sent_;
    if (client_pending || tls_want_write_) events |= EPOLLOUT;
    bool upstream_backlog =
        upstream_out_.size() - upstream_out_sent_ >= worker_.settings().buffer_high_water;
    if (!client_eof_ && phase_ != Phase::Flushing && !upstream_backlog &&
        client_in_.size() < worker_.settings().buffer_high_water)
      events |= EPOLLIN;
    if (events != client_events_ && worker_.loop().modify(client_fd_.get(), events, &client_side_))
      client_events_ = events;
  }
  if (upstream_fd_.valid() && (phase_ == Phase::Forwarding || phase_ == Phase::Tunnel)) {
    uint32_t events = EPOLLRDHUP;
    if (upstream_out_.size() > upstream_out_sent_) events |= EPOLLOUT;
    if (client_out_.size() - client_out_sent_ < worker_.settings().buffer_high_water)
      events |= EPOLLIN;
    if (events != upstream_events_ &&
        worker_.loop().modify(upstream_fd_.get(), events, &upstream_side_))
      upstream_events_ = events;
  }
}

void Connection::logAccess(int status) {
  const auto now = worker_.now();
  worker_.recordRequest({route_.series, ProxyStats::Protocol::Http1, status, now - request_start_,
                         client_ip_, request_.method, request_.log_target, request_.log_host,
                         route_.backend ? std::string_view(route_.backend->name) : ""});
  route_.series.reset();
  answered_ = true;
  request_start_ = now;  // a 408 counts from here
}

}  // namespace portico::proxy
