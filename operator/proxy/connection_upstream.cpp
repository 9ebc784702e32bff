// Connection: the upstream side (pooled or new connections, failover across endpoints, the
// response relayed with its framing).
#include "operator/proxy/connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "operator/proxy/http_forwarding.h"
#include "operator/proxy/socket_util.h"
#include "operator/proxy/worker.h"

namespace portico::proxy {

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
    deadline_ = worker_.now() + worker_.settings().connect_timeout;
    return true;
  }
  return false;
}

void Connection::onUpstreamConnected() {
  phase_ = Phase::Forwarding;
  deadline_ = worker_.now() + worker_.settings().upstream_timeout;
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
  if (phase_ == Phase::Tunnel && client_eof_) {  // the client ended the tunnel; all is sent
    close();
    return false;
  }
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
  deadline_ = worker_.now() + worker_.settings().upstream_timeout;
  processUpstreamData();
  if (phase_ == Phase::Tunnel && eof) {
    // The backend ended the tunnel: the client gets what is left, then the connection closes.
    closeUpstream(false);
    phase_ = Phase::Flushing;
    flushClient();
    return;
  }
  if (phase_ != Phase::Forwarding || upstream_fd_ < 0) return;
  if (eof) {
    if (!response_head_done_) {
      if (upstream_in_.empty() && retryOnFreshConnection()) return;
      upstreamFailed(502, UpstreamError::BadResponse);
    } else if (response_framing_ == http::BodyFraming::UntilClose) {
      if (response_chunked_)
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
  if (phase_ == Phase::Tunnel) {
    relayTunnel();
    return;
  }
  while (!response_head_done_) {
    http::MessageHead head;
    auto status = http::parseResponseHead(upstream_in_, method_, head);
    if (status == http::ParseStatus::Incomplete) return;
    if (status == http::ParseStatus::Error) {
      upstreamFailed(502, UpstreamError::BadResponse);
      return;
    }
    // An interim response (100 Continue, 103 Early Hints) is relayed; the final one follows.
    if (head.status / 100 == 1 && head.status != 101) {
      appendInterimResponseHead(client_out_, head);
      upstream_in_.erase(0, head.head_size);
      continue;
    }
    if (head.status == 101) {
      // Switching only to what was asked for: a WebSocket (RFC 6455 §4.1).
      if (!upgrade_websocket_ || !http::listContains(head.header("upgrade"), "websocket")) {
        upstreamFailed(502, UpstreamError::BadResponse);
        return;
      }
      appendInterimResponseHead(client_out_, head);
      client_out_.resize(client_out_.size() - 2);  // the head goes on with the upgrade headers
      client_out_ += "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n";
      upstream_in_.erase(0, head.head_size);
      startTunnel();
      return;
    }
    ClientResponseContext context;
    context.client_version_minor = request_.version_minor;
    context.keep_alive = client_keep_alive_;
    context.hsts = hstsValue();  // HSTS only over TLS (RFC 6797 §7.2)
    context.server = worker_.settings().server_header;
    context.date = worker_.httpDate();
    ClientResponsePlan plan = appendClientResponseHead(client_out_, head, method_, context);
    upstream_in_.erase(0, head.head_size);
    client_keep_alive_ = plan.keep_alive;
    response_chunked_ = plan.chunked;
    response_status_ = head.status;
    response_framing_ = head.framing;
    response_remaining_ = head.content_length;
    response_chunks_ = http::ChunkedDecoder{};
    upstream_reusable_ = head.keep_alive && head.framing != http::BodyFraming::UntilClose;
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
      auto result = response_chunks_.feed(upstream_in_, [&](std::string_view d) {
        if (response_chunked_)
          appendChunk(client_out_, d);
        else
          client_out_ += d;  // an HTTP/1.0 client: the body ends with the connection
      });
      if (result.status == http::ParseStatus::Error) {
        close();  // the response head is out: all we can do is cut the connection
        return;
      }
      upstream_in_.erase(0, result.consumed);
      if (result.status == http::ParseStatus::Incomplete) {
        flushClient();
        return;
      }
      if (response_chunked_) client_out_ += "0\r\n\r\n";
      break;
    }
    case http::BodyFraming::UntilClose:
      if (response_chunked_)
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

}  // namespace portico::proxy
