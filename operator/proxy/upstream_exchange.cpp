#include "operator/proxy/upstream_exchange.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "operator/proxy/http_forwarding.h"
#include "operator/proxy/socket_util.h"
#include "operator/proxy/worker.h"

namespace portico::proxy {

UpstreamExchange::UpstreamExchange(Worker& worker, ExchangeSink& sink, const Backend& backend,
                                   std::string request_head, std::string method,
                                   http::BodyFraming body_framing)
    : worker_(worker),
      sink_(sink),
      backend_(backend),
      method_(std::move(method)),
      body_framing_(body_framing),
      body_done_(body_framing == http::BodyFraming::None),
      request_head_(std::move(request_head)) {}

UpstreamExchange::~UpstreamExchange() {
  closeSocket();
}

void UpstreamExchange::closeSocket() {
  if (!fd_.valid()) return;
  worker_.loop().remove(fd_.get());
  fd_.reset();
  events_ = 0;
}

void UpstreamExchange::start() {
  out_ = request_head_;
  first_endpoint_ = worker_.pool().nextIndex(backend_.name, backend_.endpoints.size());
  if (!connectNext()) fail(502, UpstreamError::ConnectFailed);
}

// The next endpoint (each at most once): a pooled idle connection first, else a new one.
bool UpstreamExchange::connectNext() {
  const auto& endpoints = backend_.endpoints;
  while (attempts_ < endpoints.size()) {
    const Endpoint& e = endpoints[(first_endpoint_ + attempts_) % endpoints.size()];
    ++attempts_;
    endpoint_key_ = e.address + ":" + std::to_string(e.port);
    int fd = fresh_only_ ? -1 : worker_.pool().take(endpoint_key_);
    reused_ = fd >= 0;
    if (!reused_) {
      SocketAddress address;
      if (!parseAddress(e.address, e.port, address)) continue;
      fd = connectTcp(address);
      if (fd < 0) continue;
    }
    fd_.reset(fd);
    events_ = reused_ ? (EPOLLIN | EPOLLOUT | EPOLLRDHUP) : (EPOLLOUT | EPOLLRDHUP);
    if (!worker_.loop().add(fd_.get(), events_, this)) {
      fd_.reset();
      continue;
    }
    if (reused_) {
      connected();
    } else {
      phase_ = Phase::Connecting;
      deadline_ = worker_.now() + worker_.settings().connect_timeout;
    }
    return true;
  }
  return false;
}

void UpstreamExchange::connected() {
  phase_ = Phase::Exchanging;
  deadline_ = worker_.now() + worker_.settings().upstream_timeout;
  flush();
}

void UpstreamExchange::sendBody(std::string_view data) {
  if (phase_ == Phase::Done || body_done_ || data.empty()) return;
  if (body_framing_ == http::BodyFraming::Chunked)
    appendChunk(out_, data);
  else
    out_.append(data);
  body_bytes_queued_ += data.size();
  if (!head_done_) deadline_ = worker_.now() + worker_.settings().body_timeout;  // progress
  if (phase_ == Phase::Exchanging) flush();
}

void UpstreamExchange::endBody() {
  if (phase_ == Phase::Done || body_done_) return;
  body_done_ = true;
  if (body_framing_ == http::BodyFraming::Chunked) out_ += "0\r\n\r\n";
  if (phase_ == Phase::Exchanging) flush();
}

// Writes what is queued; reports request body bytes as taken once the upstream keeps up.
bool UpstreamExchange::flush() {
  while (out_sent_ < out_.size()) {
    ssize_t n = ::send(fd_.get(), out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    if (!retryOnFreshConnection()) fail(502, UpstreamError::BadResponse);
    return false;
  }
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
  if (body_bytes_queued_ > 0 && bufferedToUpstream() < worker_.settings().buffer_high_water) {
    const size_t sent = std::exchange(body_bytes_queued_, 0);
    sink_.onRequestBodySent(sent);
  }
  if (phase_ != Phase::Done) updateInterest();
  return true;
}

// A pooled connection the upstream closed while it was idle fails before any response byte: a
// body-less request goes once more, on a fresh connection to the same endpoint.
bool UpstreamExchange::retryOnFreshConnection() {
  if (head_done_ || !in_.empty() || !reused_ || fresh_only_ ||
      body_framing_ != http::BodyFraming::None)
    return false;
  closeSocket();
  fresh_only_ = true;
  --attempts_;
  out_ = request_head_;
  out_sent_ = 0;
  return connectNext();
}

void UpstreamExchange::onIo(uint32_t events) noexcept {
  if (phase_ == Phase::Done) return;
  handleIo(events);
  sink_.afterIo();
}

void UpstreamExchange::handleIo(uint32_t events) {
  if (phase_ == Phase::Connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      closeSocket();
      if (!connectNext()) fail(502, UpstreamError::ConnectFailed);
      return;
    }
    connected();
    return;
  }
  if ((events & EPOLLOUT) && !flush()) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readResponse();
}

void UpstreamExchange::resume() {
  if (phase_ != Phase::Exchanging) return;
  if (!in_.empty()) processResponse();
  if (phase_ == Phase::Exchanging) updateInterest();
}

void UpstreamExchange::readResponse() {
  if (sink_.responseBackedUp()) {
    updateInterest();
    return;
  }
  const bool eof = readAvailable(fd_.get(), in_, worker_.settings().buffer_high_water);
  deadline_ = worker_.now() + worker_.settings().upstream_timeout;
  processResponse();
  if (phase_ != Phase::Exchanging || !eof) return;
  if (!head_done_) {
    if (!retryOnFreshConnection()) fail(502, UpstreamError::BadResponse);
  } else if (response_framing_ == http::BodyFraming::UntilClose) {
    finish(false);
  } else {
    fail(0, UpstreamError::BadResponse);  // a framed body ended early: the client must know
  }
}

void UpstreamExchange::processResponse() {
  while (!head_done_) {
    http::MessageHead head;
    auto status = http::parseResponseHead(in_, method_, head);
    if (status == http::ParseStatus::Incomplete) return;
    if (status == http::ParseStatus::Error || head.status == 101) {  // no upgrade asked for
      fail(502, UpstreamError::BadResponse);
      return;
    }
    if (head.status / 100 == 1) {  // 100 Continue, 103 Early Hints
      sink_.onInterimResponse(head);
      in_.erase(0, head.head_size);
      if (phase_ != Phase::Exchanging) return;
      continue;
    }
    head_done_ = true;
    response_framing_ = head.framing;
    response_remaining_ = head.content_length;
    reusable_ = head.keep_alive && head.framing != http::BodyFraming::UntilClose;
    sink_.onResponseHead(head);
    in_.erase(0, head.head_size);
    if (phase_ != Phase::Exchanging) return;  // the sink gave up on the exchange
  }
  while (!in_.empty() && !sink_.responseBackedUp() && phase_ == Phase::Exchanging) {
    switch (response_framing_) {
      case http::BodyFraming::None: break;
      case http::BodyFraming::ContentLength: {
        const size_t take =
            static_cast<size_t>(std::min<uint64_t>(response_remaining_, in_.size()));
        sink_.onResponseData(std::string_view(in_).substr(0, take));
        in_.erase(0, take);
        response_remaining_ -= take;
        if (response_remaining_ > 0) return;
        break;
      }
      case http::BodyFraming::Chunked: {
        auto result =
            response_chunks_.feed(in_, [&](std::string_view data) { sink_.onResponseData(data); });
        if (result.status == http::ParseStatus::Error) {
          fail(0, UpstreamError::BadResponse);
          return;
        }
        in_.erase(0, result.consumed);
        if (result.status == http::ParseStatus::Incomplete) return;
        break;
      }
      case http::BodyFraming::UntilClose:
        sink_.onResponseData(in_);
        in_.clear();
        return;
    }
    finish(reusable_ && in_.empty() && body_done_);
    return;
  }
  // A head without a body, or a Content-Length of 0, ends here.
  if (head_done_ && phase_ == Phase::Exchanging && in_.empty() &&
      (response_framing_ == http::BodyFraming::None ||
       (response_framing_ == http::BodyFraming::ContentLength && response_remaining_ == 0)))
    finish(reusable_ && body_done_);
}

void UpstreamExchange::finish(bool reusable) {
  phase_ = Phase::Done;
  if (fd_.valid()) {
    worker_.loop().remove(fd_.get());
    if (reusable)
      worker_.pool().give(endpoint_key_, fd_.release());
    else
      fd_.reset();
  }
  sink_.onResponseEnd();
}

void UpstreamExchange::fail(int status, UpstreamError reason) {
  if (phase_ == Phase::Done) return;
  phase_ = Phase::Done;
  closeSocket();
  sink_.onExchangeFailed(head_done_ ? 0 : status, reason);
}

void UpstreamExchange::abandon() {
  phase_ = Phase::Done;
  closeSocket();
}

void UpstreamExchange::checkTimeout(std::chrono::steady_clock::time_point now) {
  if (phase_ == Phase::Done || now < deadline_) return;
  if (phase_ == Phase::Connecting) {
    closeSocket();  // too slow to accept: the next endpoint
    if (!connectNext()) fail(504, UpstreamError::Timeout);
    return;
  }
  // The client stopped sending its body (each piece moves the deadline): its fault, not the
  // upstream's.
  fail(body_done_ ? 504 : 408, UpstreamError::Timeout);
}

void UpstreamExchange::updateInterest() {
  if (!fd_.valid() || phase_ != Phase::Exchanging) return;
  uint32_t events = EPOLLRDHUP;
  if (out_.size() > out_sent_) events |= EPOLLOUT;
  if (!sink_.responseBackedUp()) events |= EPOLLIN;
  if (events != events_ && worker_.loop().modify(fd_.get(), events, this)) events_ = events;
}

}  // namespace portico::proxy
