#include "operator/proxy/connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "operator/base/log.h"
#include "operator/proxy/socket_util.h"
#include "operator/proxy/worker.h"

namespace portico::proxy {

namespace {

constexpr std::string_view kAcmePrefix = "/.well-known/acme-challenge/";

// Hop-by-hop headers (RFC 9110 §7.6.1) and the framing headers we set ourselves.
bool isHopByHop(std::string_view name) {
  return http::equalsIgnoreCase(name, "connection") || http::equalsIgnoreCase(name, "keep-alive") ||
         http::equalsIgnoreCase(name, "proxy-connection") || http::equalsIgnoreCase(name, "te") ||
         http::equalsIgnoreCase(name, "trailer") ||
         http::equalsIgnoreCase(name, "transfer-encoding") ||
         http::equalsIgnoreCase(name, "upgrade") || http::equalsIgnoreCase(name, "content-length");
}

// Headers named in Connection are hop-by-hop too.
bool listedInConnection(const http::MessageHead& head, std::string_view name) {
  return http::listContains(head.header("connection"), name);
}

void appendChunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  char size[20];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, static_cast<size_t>(n));
  out.append(data);
  out.append("\r\n");
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
  }
  return "Error";
}

}  // namespace

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
  request_start_ = std::chrono::steady_clock::now();
  deadline_ = request_start_ + worker_.settings().header_timeout;
  if (tls_store_) {
    ssl_ = SSL_new(tls_store_->acceptContext());
    if (!ssl_ || SSL_set_fd(ssl_, client_fd_) != 1) {
      close();
      return;
    }
    SSL_set_accept_state(ssl_);
    handshake_done_ = false;
  }
  client_events_ = EPOLLIN | EPOLLRDHUP;
  if (!worker_.loop().add(client_fd_, client_events_, &client_side_)) close();
}

void Connection::close() {
  if (upstream_fd_ >= 0) closeUpstream(upstream_parked_);  // a parked one is healthy: pool it
  if (ssl_) {
    // Best-effort close_notify, never waiting, and not on a connection that already failed.
    if (handshake_done_ && !tls_failed_) SSL_shutdown(ssl_);
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (client_fd_ >= 0) {
    worker_.loop().remove(client_fd_);
    ::close(client_fd_);
    client_fd_ = -1;
    worker_.stats().connectionClosed();
  }
  phase_ = Phase::Done;
}

ssize_t Connection::clientRecv(char* buffer, size_t size) {
  if (!ssl_) {
    ssize_t n = ::recv(client_fd_, buffer, size, 0);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return -1;
    return -2;
  }
  size_t got = 0;
  if (SSL_read_ex(ssl_, buffer, size, &got) == 1) return static_cast<ssize_t>(got);
  switch (SSL_get_error(ssl_, 0)) {
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
    ssize_t n = ::send(client_fd_, buffer, size, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return -1;
    return -2;
  }
  size_t sent = 0;
  if (SSL_write_ex(ssl_, buffer, size, &sent) == 1) return static_cast<ssize_t>(sent);
  switch (SSL_get_error(ssl_, 0)) {
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
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    handshake_done_ = true;
    worker_.stats().countHandshake(SSL_session_reused(ssl_) == 1);
    return true;
  }
  switch (int error = SSL_get_error(ssl_, r)) {
    case SSL_ERROR_WANT_READ: return false;
    case SSL_ERROR_WANT_WRITE: tls_want_write_ = true; return false;
    default:
      // No certificate for the name, a protocol the client cannot speak, a scanner: just close.
      worker_.stats().countHandshakeFailure(classifyHandshakeFailure(error, ERR_peek_error()));
      ERR_clear_error();
      handshake_done_ = true;  // nothing to shut down politely
      SSL_free(ssl_);
      ssl_ = nullptr;
      close();
      return false;
  }
}

void Connection::closeUpstream(bool reusable) {
  upstream_parked_ = false;
  if (upstream_fd_ < 0) return;
  worker_.loop().remove(upstream_fd_);
  if (reusable)
    worker_.pool().give(endpoint_key_, upstream_fd_);
  else
    ::close(upstream_fd_);
  upstream_fd_ = -1;
}

void Connection::checkTimeout(std::chrono::steady_clock::time_point now) {
  if (phase_ == Phase::Done || now < deadline_) return;
  switch (phase_) {
    case Phase::ReadHead:
      if (client_in_.empty())
        close();  // idle keep-alive connection: just close
      else
        respondLocally(408, reasonPhrase(408), "request head not received in time\n", true);
      break;
    case Phase::Connecting:
      worker_.loop().remove(upstream_fd_);  // this endpoint is too slow to accept: try the next
      ::close(upstream_fd_);
      upstream_fd_ = -1;
      if (!connectNext()) upstreamFailed(504, UpstreamError::Timeout);
      break;
    case Phase::Forwarding:
      if (response_head_done_)
        close();  // mid-response: nothing sensible to send any more
      else if (!request_body_done_ && upstream_out_.size() == upstream_out_sent_ &&
               client_in_.empty())
        respondLocally(408, reasonPhrase(408), "request body not received in time\n", true);
      else
        upstreamFailed(504, UpstreamError::Timeout);
      break;
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
        getsockopt(upstream_fd_, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) {
          worker_.loop().remove(upstream_fd_);
          ::close(upstream_fd_);
          upstream_fd_ = -1;
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
  if (phase_ == Phase::ReadHead || phase_ == Phase::Forwarding) processBuffered();
  if (phase_ != Phase::Done) updateInterest();
}

void Connection::readClient() {
  // Backpressure: while the upstream has not taken what we hold, leave the client's bytes in
  // its socket (interest is off; a level-triggered event may still come once).
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
}

// Starts every complete request that is buffered (pipelining), one at a time, while the
// client keeps up with the answers; then moves request body bytes along.
void Connection::processBuffered() {
  while (phase_ == Phase::ReadHead && !client_in_.empty() &&
         client_out_.size() - client_out_sent_ < worker_.settings().buffer_high_water) {
    size_t before = client_in_.size();
    startRequest();
    if (phase_ == Phase::ReadHead && client_in_.size() == before) break;  // head incomplete
  }
  if (phase_ == Phase::Forwarding) forwardRequestBody();
}

void Connection::appendHsts(std::string& out) const {
  if (!isTls() || !table_ || table_->listeners().hsts.empty()) return;
  out += "Strict-Transport-Security: ";
  out += table_->listeners().hsts;
  out += "\r\n";
}

void Connection::respondLocally(int status, std::string_view reason, std::string_view body,
                                bool close_after, std::string_view extra_headers) {
  response_status_ = status;
  if (!client_keep_alive_) close_after = true;
  std::string& out = client_out_;
  out += "HTTP/1.1 " + std::to_string(status) + " ";
  out += reason;
  out += "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n";
  out += extra_headers;
  appendHsts(out);
  if (close_after) out += "Connection: close\r\n";
  out += "\r\n";
  if (method_ != "HEAD") out += body;
  logAccess(status);
  if (close_after) {
    phase_ = Phase::Flushing;
    client_in_.clear();
    deadline_ = std::chrono::steady_clock::now() + worker_.settings().idle_timeout;
  } else {
    phase_ = Phase::ReadHead;
    deadline_ = std::chrono::steady_clock::now() + worker_.settings().idle_timeout;
  }
  flushClient();
}

void Connection::startRequest() {
  const ProxySettings& settings = worker_.settings();
  http::Limits limits;
  limits.max_head_bytes = settings.max_head_bytes;
  auto status = http::parseRequestHead(client_in_, request_, limits);
  if (status == http::ParseStatus::Incomplete) return;
  request_start_ = std::chrono::steady_clock::now();
  method_.assign(request_.method.data(), request_.method.size());
  if (settings.access_log) {  // the head's views die with the buffer
    log_target_.assign(request_.target.data(), request_.target.size());
    log_host_.assign(request_.host.data(), request_.host.size());
  }
  if (status == http::ParseStatus::Error) {
    client_keep_alive_ = false;
    respondLocally(request_.error_status, reasonPhrase(request_.error_status),
                   std::string(request_.error ? request_.error : "bad request") + "\n", true);
    return;
  }
  client_keep_alive_ = request_.keep_alive && !client_eof_;
  request_framing_ = request_.framing;
  request_remaining_ = request_.content_length;
  request_body_seen_ = 0;
  request_body_done_ = request_framing_ == http::BodyFraming::None;
  request_chunks_ = http::ChunkedDecoder{};
  response_head_done_ = false;
  upstream_in_.clear();
  attempts_ = 0;
  fresh_only_ = false;

  // Host: from an absolute-form target (a proxy request) or the Host header.
  std::string_view target = request_.target;
  std::string_view host_text = request_.host;
  if (target.size() > 7 &&
      (target.substr(0, 7) == "http://" || target.substr(0, 8) == "https://")) {
    auto start = target.find("://") + 3;
    auto slash = target.find('/', start);
    host_text = target.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  std::string host, path;
  if (!normalizeHost(host_text, host) || !normalizePath(target, path)) {
    client_keep_alive_ = false;
    respondLocally(400, reasonPhrase(400), "invalid host or request target\n", true);
    return;
  }
  if (method_ == "CONNECT") {
    client_keep_alive_ = false;
    respondLocally(501, reasonPhrase(501), "CONNECT is not supported\n", true);
    return;
  }
  if (settings.max_body_bytes > 0 && request_framing_ == http::BodyFraming::ContentLength &&
      request_.content_length > settings.max_body_bytes) {
    client_keep_alive_ = false;
    respondLocally(413, reasonPhrase(413), "request body too large\n", true);
    return;
  }
  table_ = worker_.currentTable();
  // ACME HTTP-01 (RFC 8555 §8.3): answered for any host, ahead of redirects and routing.
  if (path.compare(0, kAcmePrefix.size(), kAcmePrefix) == 0) {
    const std::string* key_authorization =
        table_ ? table_->acmeKeyAuthorization(std::string_view(path).substr(kAcmePrefix.size()))
               : nullptr;
    bool close_after = !request_body_done_;
    client_in_.erase(0, request_.head_size);
    if (key_authorization)
      respondLocally(200, reasonPhrase(200), *key_authorization, close_after);
    else
      respondLocally(404, reasonPhrase(404), "unknown ACME challenge token\n", close_after);
    return;
  }
  MatchResult match = table_ ? table_->match(host, path) : MatchResult{};
  bool close_after = !request_body_done_;  // an unread body cannot be skipped safely
  if (!match.found()) {
    client_in_.erase(0, request_.head_size);
    respondLocally(404, reasonPhrase(404), "no route for this host and path\n", close_after);
    return;
  }
  if (match.route && match.route->options.ssl_redirect && !isTls()) {
    std::string location = "Location: https://" + host;
    uint16_t https_port = settings.redirect_https_port ? settings.redirect_https_port
                                                       : table_->listeners().https_port;
    if (https_port != 443) location += ":" + std::to_string(https_port);
    location.append(request_.target.data(), request_.target.size());
    location += "\r\n";
    client_in_.erase(0, request_.head_size);
    respondLocally(308, reasonPhrase(308), "", close_after, location);
    return;
  }
  backend_ = match.backend;
  series_ = &worker_.seriesFor(table_.get(), match);
  if (backend_->endpoints.empty()) {
    client_in_.erase(0, request_.head_size);
    respondLocally(503, reasonPhrase(503),
                   backend_->problem.empty() ? "no ready endpoints\n" : backend_->problem + "\n",
                   close_after);
    return;
  }

  // The request head as the upstream gets it.
  std::string& out = request_head_out_;
  out.clear();
  out.append(request_.method);
  out += ' ';
  out.append(target);
  out += " HTTP/1.1\r\n";
  std::string_view forwarded_for;
  for (size_t i = 0; i < request_.header_count; ++i) {
    const auto& h = request_.headers[i];
    if (isHopByHop(h.name) || listedInConnection(request_, h.name)) continue;
    if (http::equalsIgnoreCase(h.name, "x-forwarded-for")) {
      forwarded_for = h.value;
      continue;
    }
    if (http::equalsIgnoreCase(h.name, "x-forwarded-proto") ||
        http::equalsIgnoreCase(h.name, "x-forwarded-host"))
      continue;
    out.append(h.name);
    out += ": ";
    out.append(h.value);
    out += "\r\n";
  }
  if (request_.host.empty()) out += "Host: " + host + "\r\n";
  out += "X-Forwarded-For: ";
  if (!forwarded_for.empty()) {
    out.append(forwarded_for);
    out += ", ";
  }
  out += client_ip_;
  out += "\r\nX-Forwarded-Proto: ";
  out += isTls() ? "https" : "http";
  out += "\r\nX-Forwarded-Host: ";
  out.append(host_text);
  out += "\r\n";
  if (request_framing_ == http::BodyFraming::ContentLength)
    out += "Content-Length: " + std::to_string(request_.content_length) + "\r\n";
  else if (request_framing_ == http::BodyFraming::Chunked)
    out += "Transfer-Encoding: chunked\r\n";
  out += "\r\n";
  client_in_.erase(0, request_.head_size);

  first_endpoint_ = worker_.pool().nextIndex(backend_->name, backend_->endpoints.size());
  if (!connectNext()) upstreamFailed(502, UpstreamError::ConnectFailed);
}

// Tries the next endpoint of the backend (each at most once per request): a pooled idle
// connection first, else a new one.
bool Connection::connectNext() {
  const auto& endpoints = backend_->endpoints;
  while (attempts_ < endpoints.size()) {
    const Endpoint& e = endpoints[(first_endpoint_ + attempts_) % endpoints.size()];
    ++attempts_;
    if (upstream_parked_) {
      // The connection this client used last time, still registered: no syscall to reuse it.
      if (!fresh_only_ && parked_port_ == e.port && parked_address_ == e.address) {
        upstream_parked_ = false;
        reused_upstream_ = true;
        onUpstreamConnected();
        return true;
      }
      closeUpstream(true);
    }
    endpoint_key_ = e.address + ":" + std::to_string(e.port);
    endpoint_address_ = e.address;
    endpoint_port_ = e.port;
    int fd = fresh_only_ ? -1 : worker_.pool().take(endpoint_key_);
    if (fd >= 0) {
      reused_upstream_ = true;
      upstream_fd_ = fd;
      upstream_events_ = EPOLLIN | EPOLLRDHUP;
      if (!worker_.loop().add(upstream_fd_, upstream_events_, &upstream_side_)) {
        ::close(upstream_fd_);
        upstream_fd_ = -1;
        continue;
      }
      onUpstreamConnected();
      return true;
    }
    SocketAddress address;
    if (!parseAddress(e.address, e.port, address)) continue;
    fd = connectTcp(address);
    if (fd < 0) continue;
    reused_upstream_ = false;
    upstream_fd_ = fd;
    upstream_events_ = EPOLLOUT | EPOLLRDHUP;
    if (!worker_.loop().add(upstream_fd_, upstream_events_, &upstream_side_)) {
      ::close(upstream_fd_);
      upstream_fd_ = -1;
      continue;
    }
    phase_ = Phase::Connecting;
    deadline_ = std::chrono::steady_clock::now() + worker_.settings().connect_timeout;
    return true;
  }
  return false;
}

void Connection::onUpstreamConnected() {
  phase_ = Phase::Forwarding;
  deadline_ = std::chrono::steady_clock::now() + worker_.settings().upstream_timeout;
  upstream_out_.assign(request_head_out_);
  upstream_out_sent_ = 0;
  upstream_reusable_ = false;
  forwardRequestBody();
  flushUpstream();
}

// A reused keep-alive connection the upstream closed just as we sent: a body-less request can
// go again, once, on a fresh connection to the same endpoint (as nginx's proxy_next_upstream).
bool Connection::retryOnFreshConnection() {
  if (!reused_upstream_ || fresh_only_ || request_framing_ != http::BodyFraming::None ||
      response_head_done_)
    return false;
  closeUpstream(false);
  fresh_only_ = true;
  --attempts_;
  return connectNext();
}

void Connection::upstreamFailed(int status, UpstreamError reason) {
  if (series_) series_->countUpstreamError(reason);
  closeUpstream(false);
  // The request body may be half consumed: the connection cannot carry another request.
  bool close_after = !request_body_done_;
  respondLocally(status, reasonPhrase(status),
                 status == 504 ? "upstream timed out\n" : "upstream connection failed\n",
                 close_after);
}

// Moves request body bytes from the client buffer to the upstream buffer, per framing.
void Connection::forwardRequestBody() {
  if (request_body_done_ || client_in_.empty()) return;
  if (phase_ == Phase::Connecting) return;  // upstream_out_ is set when connected
  uint64_t limit = worker_.settings().max_body_bytes;
  if (request_framing_ == http::BodyFraming::ContentLength) {
    size_t take = static_cast<size_t>(std::min<uint64_t>(request_remaining_, client_in_.size()));
    upstream_out_.append(client_in_, 0, take);
    client_in_.erase(0, take);
    request_remaining_ -= take;
    if (request_remaining_ == 0) request_body_done_ = true;
  } else if (request_framing_ == http::BodyFraming::Chunked) {
    bool too_large = false;
    auto result = request_chunks_.feed(client_in_, [&](std::string_view data) {
      request_body_seen_ += data.size();
      if (limit > 0 && request_body_seen_ > limit) too_large = true;
      appendChunk(upstream_out_, data);
    });
    if (result.status == http::ParseStatus::Error || too_large) {
      closeUpstream(false);
      client_keep_alive_ = false;
      respondLocally(too_large ? 413 : 400, reasonPhrase(too_large ? 413 : 400),
                     too_large ? "request body too large\n" : "malformed chunked body\n", true);
      return;
    }
    client_in_.erase(0, result.consumed);
    if (result.status == http::ParseStatus::Complete) {
      upstream_out_ += "0\r\n\r\n";
      request_body_done_ = true;
    }
  }
  // A client that is still sending is making progress.
  if (!request_body_done_)
    deadline_ = std::chrono::steady_clock::now() + worker_.settings().body_timeout;
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
    if (!ssl_) ::shutdown(client_fd_, SHUT_WR);
    close();  // TLS: close() sends close_notify
    return false;
  }
  // The client took the response: let the upstream send more.
  return true;
}

bool Connection::flushUpstream() {
  if (upstream_fd_ < 0) return true;
  while (upstream_out_sent_ < upstream_out_.size()) {
    ssize_t n = ::send(upstream_fd_, upstream_out_.data() + upstream_out_sent_,
                       upstream_out_.size() - upstream_out_sent_, MSG_NOSIGNAL);
    if (n > 0) {
      upstream_out_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0 && errno == EINTR) continue;
    // The upstream went away while we sent: if nothing came back, it is a bad gateway.
    if (!response_head_done_)
      upstreamFailed(502, UpstreamError::BadResponse);
    else
      close();
    return false;
  }
  upstream_out_.clear();
  upstream_out_sent_ = 0;
  if (!client_in_.empty() && !request_body_done_) forwardRequestBody();
  return true;
}

void Connection::readUpstream() {
  if (client_out_.size() - client_out_sent_ >= worker_.settings().buffer_high_water) return;
  char buf[16384];
  bool eof = false;
  while (true) {
    ssize_t n = ::recv(upstream_fd_, buf, sizeof buf, 0);
    if (n > 0) {
      upstream_in_.append(buf, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof buf ||
          upstream_in_.size() >= worker_.settings().buffer_high_water)
        break;
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    if (errno == EINTR) continue;
    eof = true;
    break;
  }
  deadline_ = std::chrono::steady_clock::now() + worker_.settings().upstream_timeout;
  processUpstreamData();
  if (phase_ != Phase::Forwarding || upstream_fd_ < 0) return;
  if (eof) {
    if (!response_head_done_) {
      if (upstream_in_.empty() && retryOnFreshConnection()) return;
      upstreamFailed(502, UpstreamError::BadResponse);
    } else if (response_framing_ == http::BodyFraming::UntilClose) {
      if (response_rechunk_)
        client_out_ += "0\r\n\r\n";
      else
        client_keep_alive_ = false;
      closeUpstream(false);
      finishExchange();
    } else {
      close();  // the upstream ended a framed body early: the client must not wait for more
    }
  }
}

void Connection::processUpstreamData() {
  while (!response_head_done_) {
    http::MessageHead head;
    auto status = http::parseResponseHead(upstream_in_, method_, head);
    if (status == http::ParseStatus::Incomplete) return;
    if (status == http::ParseStatus::Error) {
      upstreamFailed(502, UpstreamError::BadResponse);
      return;
    }
    // An interim response (100 Continue, 103 Early Hints) is relayed; the final one follows.
    bool interim = head.status / 100 == 1 && head.status != 101;
    std::string& out = client_out_;
    out += "HTTP/1.1 " + std::to_string(head.status) + " ";
    out.append(head.reason);
    out += "\r\n";
    for (size_t i = 0; i < head.header_count; ++i) {
      const auto& h = head.headers[i];
      if (isHopByHop(h.name) || listedInConnection(head, h.name)) continue;
      out.append(h.name);
      out += ": ";
      out.append(h.value);
      out += "\r\n";
    }
    upstream_in_.erase(0, head.head_size);
    if (interim) {
      out += "\r\n";
      continue;
    }
    if (head.status == 101) {  // upgrades are not supported yet: refuse cleanly
      client_out_.clear();
      upstreamFailed(502, UpstreamError::BadResponse);
      return;
    }
    // HSTS only over TLS (RFC 6797 §7.2); an upstream's own header wins.
    if (head.header("strict-transport-security").empty()) appendHsts(out);
    response_status_ = head.status;
    response_framing_ = head.framing;
    response_remaining_ = head.content_length;
    response_chunks_ = http::ChunkedDecoder{};
    response_rechunk_ = false;
    upstream_reusable_ = head.keep_alive && head.framing != http::BodyFraming::UntilClose;
    switch (head.framing) {
      case http::BodyFraming::ContentLength:
        out += "Content-Length: " + std::to_string(head.content_length) + "\r\n";
        break;
      case http::BodyFraming::Chunked: out += "Transfer-Encoding: chunked\r\n"; break;
      case http::BodyFraming::UntilClose:
        if (request_.version_minor == 1) {
          out += "Transfer-Encoding: chunked\r\n";
          response_rechunk_ = true;
        } else {
          client_keep_alive_ = false;
        }
        break;
      case http::BodyFraming::None:
        if (head.header("content-length").size() && method_ == "HEAD")
          out += "Content-Length: " + std::string(head.header("content-length")) + "\r\n";
        break;
    }
    if (!client_keep_alive_) out += "Connection: close\r\n";
    out += "\r\n";
    response_head_done_ = true;
  }

  switch (response_framing_) {
    case http::BodyFraming::None: break;
    case http::BodyFraming::ContentLength: {
      size_t take =
          static_cast<size_t>(std::min<uint64_t>(response_remaining_, upstream_in_.size()));
      client_out_.append(upstream_in_, 0, take);
      upstream_in_.erase(0, take);
      response_remaining_ -= take;
      if (response_remaining_ > 0) {
        flushClient();
        return;
      }
      break;
    }
    case http::BodyFraming::Chunked: {
      auto result = response_chunks_.feed(upstream_in_,
                                          [&](std::string_view d) { appendChunk(client_out_, d); });
      if (result.status == http::ParseStatus::Error) {
        close();  // the response head is out: all we can do is cut the connection
        return;
      }
      upstream_in_.erase(0, result.consumed);
      if (result.status == http::ParseStatus::Incomplete) {
        flushClient();
        return;
      }
      client_out_ += "0\r\n\r\n";
      break;
    }
    case http::BodyFraming::UntilClose:
      if (response_rechunk_)
        appendChunk(client_out_, upstream_in_);
      else
        client_out_ += upstream_in_;
      upstream_in_.clear();
      flushClient();
      return;
  }
  // The response is complete; reuse the upstream only if it sent nothing beyond it.
  if (upstream_reusable_ && upstream_in_.empty() && request_body_done_) {
    // Keep it for this client's next request (the common keep-alive case); it goes to the pool
    // if the next request picks another endpoint or the client leaves.
    upstream_parked_ = true;
    parked_address_ = endpoint_address_;
    parked_port_ = endpoint_port_;
  } else {
    closeUpstream(false);
  }
  finishExchange();
}

void Connection::finishExchange() {
  logAccess(response_status_);
  table_.reset();
  backend_ = nullptr;
  if (!client_keep_alive_ || !request_body_done_) {
    phase_ = Phase::Flushing;
    client_in_.clear();
    flushClient();
    return;
  }
  phase_ = Phase::ReadHead;
  deadline_ = std::chrono::steady_clock::now() + worker_.settings().idle_timeout;
  flushClient();
}

void Connection::updateInterest() {
  if (client_fd_ >= 0) {
    uint32_t events = client_eof_ ? 0u : static_cast<uint32_t>(EPOLLRDHUP);
    bool client_pending = client_out_.size() > client_out_sent_;
    if (client_pending || tls_want_write_) events |= EPOLLOUT;
    bool upstream_backlog =
        upstream_out_.size() - upstream_out_sent_ >= worker_.settings().buffer_high_water;
    if (!client_eof_ && phase_ != Phase::Flushing && !upstream_backlog &&
        client_in_.size() < worker_.settings().buffer_high_water)
      events |= EPOLLIN;
    if (events != client_events_ && worker_.loop().modify(client_fd_, events, &client_side_))
      client_events_ = events;
  }
  if (upstream_fd_ >= 0 && phase_ == Phase::Forwarding) {
    uint32_t events = EPOLLRDHUP;
    if (upstream_out_.size() > upstream_out_sent_) events |= EPOLLOUT;
    if (client_out_.size() - client_out_sent_ < worker_.settings().buffer_high_water)
      events |= EPOLLIN;
    if (events != upstream_events_ && worker_.loop().modify(upstream_fd_, events, &upstream_side_))
      upstream_events_ = events;
  }
}

void Connection::logAccess(int status) {
  const auto took = std::chrono::steady_clock::now() - request_start_;
  (series_ ? *series_ : worker_.seriesFor(nullptr, MatchResult{})).record(status, took);
  series_ = nullptr;
  request_start_ = std::chrono::steady_clock::now();  // a 408 counts from here
  if (!worker_.settings().access_log) return;
  auto ms = std::chrono::duration_cast<std::chrono::microseconds>(took).count() / 1000.0;
  log::info("access", {{"client", client_ip_},
                       {"method", method_},
                       {"target", log_target_},
                       {"host", log_host_},
                       {"status", std::to_string(status)},
                       {"backend", backend_ ? backend_->name : ""},
                       {"duration_ms", std::to_string(ms)}});
}

}  // namespace portico::proxy
