// Connection: a request head parsed, checked, answered locally or routed, rewritten and sent
// upstream with its body.
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

namespace {
constexpr std::string_view kAcmePrefix = "/.well-known/acme-challenge/";  // RFC 8555 §8.3
}  // namespace

void Connection::startRequest() {
  const ProxySettings& settings = worker_.settings();
  http::Limits limits;
  limits.max_head_bytes = settings.max_head_bytes;
  auto status = http::parseRequestHead(client_in_, request_, limits);
  if (status == http::ParseStatus::Incomplete) return;
  request_start_ = worker_.now();
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
  // Draining: this response says Connection: close, so the client goes elsewhere next time.
  client_keep_alive_ = request_.keep_alive && !client_eof_ && !worker_.draining();
  request_framing_ = request_.framing;
  request_remaining_ = request_.content_length;
  request_body_seen_ = 0;
  request_body_done_ = request_framing_ == http::BodyFraming::None;
  request_chunks_ = http::ChunkedDecoder{};
  // WebSocket (RFC 6455 §4.1) is the one upgrade passed on (RFC 9110 §7.8): any other protocol
  // (h2c above all) would let a client send the backend requests the routing never saw.
  upgrade_websocket_ = request_.upgrade && request_.version_minor == 1 &&
                       request_framing_ == http::BodyFraming::None &&
                       http::listContains(request_.header("upgrade"), "websocket");
  response_head_done_ = false;
  upstream_in_.clear();
  attempts_ = 0;
  fresh_only_ = false;

  // Host: from an absolute-form target (RFC 9112 §3.2.2: its authority replaces Host) or the
  // Host header.
  SplitTarget split = splitRequestTarget(request_.target);
  std::string_view target = split.origin;
  std::string_view host_text = split.absolute ? split.authority : request_.host;
  if (split.absolute && (target.empty() || target.front() != '/')) {
    origin_target_.assign("/");  // "http://a.example?q": the empty path is "/"
    origin_target_.append(target);
    target = origin_target_;
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
  series_ = worker_.seriesFor(table_.get(), match);  // redirects and 503s count for the Ingress
  if (match.route && match.route->options.ssl_redirect && !isTls()) {
    std::string location = "Location: https://" + host;
    uint16_t https_port = settings.redirect_https_port ? settings.redirect_https_port
                                                       : table_->listeners().https_port;
    if (https_port != 443) location += ":" + std::to_string(https_port);
    location.append(target);  // origin form, also for an absolute-form request
    location += "\r\n";
    client_in_.erase(0, request_.head_size);
    respondLocally(308, reasonPhrase(308), "", close_after, location);
    return;
  }
  backend_ = match.backend;
  if (backend_->endpoints.empty()) {
    client_in_.erase(0, request_.head_size);
    respondLocally(503, reasonPhrase(503),
                   backend_->problem.empty() ? "no ready endpoints\n" : backend_->problem + "\n",
                   close_after);
    return;
  }

  // The request head as the upstream gets it.
  request_head_out_.clear();
  UpstreamRequestContext context;
  context.target = target;
  context.authority = host_text.empty() ? std::string_view(host) : host_text;
  context.client_ip = client_ip_;
  context.tls = isTls();
  context.websocket = upgrade_websocket_;
  appendUpstreamRequestHead(request_head_out_, request_, context);
  client_in_.erase(0, request_.head_size);

  first_endpoint_ = worker_.pool().nextIndex(backend_->name, backend_->endpoints.size());
  if (!connectNext()) upstreamFailed(502, UpstreamError::ConnectFailed);
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
  if (!request_body_done_) deadline_ = worker_.now() + worker_.settings().body_timeout;
}

}  // namespace portico::proxy
