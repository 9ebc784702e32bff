// Connection: the upstream side (pooled or new connections, failover across endpoints, the
// response relayed with its framing).
#include "operator/proxy/connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "operator/proxy/http_forwarding.h"
#include "operator/proxy/socket_util.h"
#include "operator/proxy/worker.h"

namespace portico::proxy {

void Connection::closeUpstream(bool reusable) {
  const bool parked = std::exchange(upstream_parked_, false);
  if (!upstream_fd_.valid()) return;
  worker_.loop().remove(upstream_fd_.get());
  // Only a parked connection (idle after a complete exchange) is known to be reusable.
  if (reusable && parked)
    worker_.pool().give(parked_key_, upstream_fd_.release());
  else
    upstream_fd_.reset();
}

// Tries the next endpoint of the backend (each at most once per request): a pooled idle
// connection first, else a new one.
bool Connection::connectNext() {
  const auto& endpoints = route_.backend->endpoints;
  while (route_.attempts < endpoints.size()) {
    const Endpoint& e = endpoints[(route_.first_endpoint + route_.attempts) % endpoints.size()];
    ++route_.attempts;
    if (upstream_parked_) {
      // The connection this client used last time, still registered: no syscall to reuse it.
      if (!route_.fresh_only && parked_port_ == e.port && parked_address_ == e.address) {
        upstream_parked_ = false;
        route_.endpoint_key = parked_key_;
        route_.endpoint_address = parked_address_;
        route_.endpoint_port = parked_port_;
        route_.reused_upstream = true;
        onUpstreamConnected();
        return true;
      }
      closeUpstream(true);
    }
    route_.endpoint_key = e.address + ":" + std::to_string(e.port);
    route_.endpoint_address = e.address;
    route_.endpoint_port = e.port;
    int fd = route_.fresh_only ? -1 : worker_.pool().take(route_.endpoint_key);
    if (fd >= 0) {
      route_.reused_upstream = true;
      upstream_fd_.reset(fd);
      upstream_events_ = EPOLLIN | EPOLLRDHUP;
      if (!worker_.loop().add(upstream_fd_.get(), upstream_events_, &upstream_side_)) {
        upstream_fd_.reset();
        continue;
      }
      onUpstreamConnected();
      return true;
    }
    SocketAddress address;
    if (!parseAddress(e.address, e.port, address)) continue;
    fd = connectTcp(address);
    if (fd < 0) continue;
    route_.reused_upstream = false;
    upstream_fd_.reset(fd);
    upstream_events_ = EPOLLOUT | EPOLLRDHUP;
    if (!worker_.loop().add(upstream_fd_.get(), upstream_events_, &upstream_side_)) {
      upstream_fd_.reset();
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
  upstream_out_.assign(upstream_head_);
  upstream_out_sent_ = 0;
  response_.upstream_reusable = false;
  forwardRequestBody();
  flushUpstream();
}

// A reused keep-alive connection the upstream closed just as we sent: a body-less request can
// go again, once, on a fresh connection to the same endpoint (as nginx's proxy_next_upstream).
bool Connection::retryOnFreshConnection() {
  if (!route_.reused_upstream || route_.fresh_only || request_.framing != http::BodyFraming::None ||
      response_.head_done)
    return false;
  closeUpstream(false);
  route_.fresh_only = true;
  --route_.attempts;
  return connectNext();
}

void Connection::upstreamFailed(int status, UpstreamError reason) {
  if (route_.series) route_.series->countUpstreamError(reason);
  closeUpstream(false);
  // The request body may be half consumed: the connection cannot carry another request.
  bool close_after = !request_.body_done;
  respondLocally(status, reasonPhrase(status),
                 status == 504 ? "upstream timed out\n" : "upstream connection failed\n",
                 close_after);
}

bool Connection::flushUpstream() {
  if (!upstream_fd_.valid()) return true;
  while (upstream_out_sent_ < upstream_out_.size()) {
    ssize_t n = ::send(upstream_fd_.get(), upstream_out_.data() + upstream_out_sent_,
                       upstream_out_.size() - upstream_out_sent_, MSG_NOSIGNAL);
    if (n > 0) {
      upstream_out_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n < 0 && errno == EINTR) continue;
    // The upstream went away while we sent: if nothing came back, it is a bad gateway.
    if (!response_.head_done)
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
  if (!client_in_.empty() && !request_.body_done) forwardRequestBody();
  return true;
}

void Connection::readUpstream() {
  if (client_out_.size() - client_out_sent_ >= worker_.settings().buffer_high_water) return;
  const bool eof =
      readAvailable(upstream_fd_.get(), upstream_in_, worker_.settings().buffer_high_water);
  deadline_ = worker_.now() + worker_.settings().upstream_timeout;
  processUpstreamData();
  if (phase_ == Phase::Tunnel && eof) {
    // The backend ended the tunnel: the client gets what is left, then the connection closes.
    closeUpstream(false);
    phase_ = Phase::Flushing;
    flushClient();
    return;
  }
  if (phase_ != Phase::Forwarding || !upstream_fd_.valid()) return;
  if (eof) {
    if (!response_.head_done) {
      if (upstream_in_.empty() && retryOnFreshConnection()) return;
      upstreamFailed(502, UpstreamError::BadResponse);
    } else if (response_.framing == http::BodyFraming::UntilClose) {
      if (response_.chunked)
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
  while (!response_.head_done) {
    http::MessageHead head;
    auto status = http::parseResponseHead(upstream_in_, request_.method, head);
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
      if (!request_.websocket || !http::listContains(head.header("upgrade"), "websocket")) {
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
    context.client_version_minor = request_head_.version_minor;
    context.keep_alive = client_keep_alive_;
    context.hsts = hstsValue();  // HSTS only over TLS (RFC 6797 §7.2)
    context.server = worker_.settings().server_header;
    context.date = worker_.httpDate();
    ClientResponsePlan plan = appendClientResponseHead(client_out_, head, request_.method, context);
    upstream_in_.erase(0, head.head_size);
    client_keep_alive_ = plan.keep_alive;
    response_.chunked = plan.chunked;
    response_.status = head.status;
    response_.framing = head.framing;
    response_.remaining = head.content_length;
    response_.chunks = http::ChunkedDecoder{};
    response_.upstream_reusable = head.keep_alive && head.framing != http::BodyFraming::UntilClose;
    response_.head_done = true;
  }

  switch (response_.framing) {
    case http::BodyFraming::None: break;
    case http::BodyFraming::ContentLength: {
      size_t take =
          static_cast<size_t>(std::min<uint64_t>(response_.remaining, upstream_in_.size()));
      client_out_.append(upstream_in_, 0, take);
      upstream_in_.erase(0, take);
      response_.remaining -= take;
      if (response_.remaining > 0) {
        flushClient();
        return;
      }
      break;
    }
    case http::BodyFraming::Chunked: {
      auto result = response_.chunks.feed(upstream_in_, [&](std::string_view d) {
        if (response_.chunked)
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
      if (response_.chunked) client_out_ += "0\r\n\r\n";
      break;
    }
    case http::BodyFraming::UntilClose:
      if (response_.chunked)
        appendChunk(client_out_, upstream_in_);
      else
        client_out_ += upstream_in_;
      upstream_in_.clear();
      flushClient();
      return;
  }
  // The response is complete; reuse the upstream only if it sent nothing beyond it.
  if (response_.upstream_reusable && upstream_in_.empty() && request_.body_done) {
    // Keep it for this client's next request (the common keep-alive case); it goes to the pool
    // if the next request picks another endpoint or the client leaves.
    upstream_parked_ = true;
    parked_key_ = route_.endpoint_key;
    parked_address_ = route_.endpoint_address;
    parked_port_ = route_.endpoint_port;
  } else {
    closeUpstream(false);
  }
  finishExchange();
}

}  // namespace portico::proxy
