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
  auto status = http::parseRequestHead(client_in_, request_head_, limits);
  if (status == http::ParseStatus::Incomplete) return;
  // A new exchange: nothing of the previous one's request, response or routing carries over.
  request_ = RequestState{};
  response_ = ResponseState{};
  route_ = RouteState{};
  upstream_in_.clear();
  request_start_ = worker_.now();
  request_.method.assign(request_head_.method.data(), request_head_.method.size());
  if (settings.access_log) {  // the head's views die with the buffer
    request_.log_target.assign(request_head_.target.data(), request_head_.target.size());
    request_.log_host.assign(request_head_.host.data(), request_head_.host.size());
  }
  if (status == http::ParseStatus::Error) {
    client_keep_alive_ = false;
    respondLocally(request_head_.error_status, reasonPhrase(request_head_.error_status),
                   std::string(request_head_.error ? request_head_.error : "bad request") + "\n",
                   true);
    return;
  }
  // Draining: this response says Connection: close, so the client goes elsewhere next time.
  client_keep_alive_ = request_head_.keep_alive && !client_eof_ && !worker_.draining();
  request_.framing = request_head_.framing;
  request_.remaining = request_head_.content_length;
  request_.body_done = request_.framing == http::BodyFraming::None;
  // WebSocket (RFC 6455 §4.1) is the one upgrade passed on (RFC 9110 §7.8): any other protocol
  // (h2c above all) would let a client send the backend requests the routing never saw.
  request_.websocket = request_head_.upgrade && request_head_.version_minor == 1 &&
                       request_.framing == http::BodyFraming::None &&
                       http::listContains(request_head_.header("upgrade"), "websocket");

  // Host: from an absolute-form target (RFC 9112 §3.2.2: its authority replaces Host) or the
  // Host header.
  SplitTarget split = splitRequestTarget(request_head_.target);
  std::string_view target = split.origin;
  std::string_view host_text = split.absolute ? split.authority : request_head_.host;
  if (split.absolute && (target.empty() || target.front() != '/')) {
    request_.origin_target.assign("/");  // "http://a.example?q": the empty path is "/"
    request_.origin_target.append(target);
    target = request_.origin_target;
  }
  std::string host, path;
  if (!normalizeHost(host_text, host) || !normalizePath(target, path)) {
    client_keep_alive_ = false;
    respondLocally(400, reasonPhrase(400), "invalid host or request target\n", true);
    return;
  }
  if (request_.method == "CONNECT") {
    client_keep_alive_ = false;
    respondLocally(501, reasonPhrase(501), "CONNECT is not supported\n", true);
    return;
  }
  if (settings.max_body_bytes > 0 && request_.framing == http::BodyFraming::ContentLength &&
      request_head_.content_length > settings.max_body_bytes) {
    client_keep_alive_ = false;
    respondLocally(413, reasonPhrase(413), "request body too large\n", true);
    return;
  }
  route_.table = worker_.currentTable();
  // ACME HTTP-01 (RFC 8555 §8.3): answered for any host, ahead of redirects and routing.
  if (path.compare(0, kAcmePrefix.size(), kAcmePrefix) == 0) {
    const std::string* key_authorization =
        route_.table
            ? route_.table->acmeKeyAuthorization(std::string_view(path).substr(kAcmePrefix.size()))
            : nullptr;
    bool close_after = !request_.body_done;
    client_in_.erase(0, request_head_.head_size);
    if (key_authorization)
      respondLocally(200, reasonPhrase(200), *key_authorization, close_after);
    else
      respondLocally(404, reasonPhrase(404), "unknown ACME challenge token\n", close_after);
    return;
  }
  MatchResult match = route_.table ? route_.table->match(host, path) : MatchResult{};
  bool close_after = !request_.body_done;  // an unread body cannot be skipped safely
  if (!match.found()) {
    client_in_.erase(0, request_head_.head_size);
    respondLocally(404, reasonPhrase(404), "no route for this host and path\n", close_after);
    return;
  }
  route_.series =
      worker_.seriesFor(route_.table.get(), match);  // redirects and 503s count for the Ingress
  if (match.route && match.route->options.ssl_redirect && !isTls()) {
    std::string location = "Location: https://" + host;
    uint16_t https_port = settings.redirect_https_port ? settings.redirect_https_port
                                                       : route_.table->listeners().https_port;
    if (https_port != 443) location += ":" + std::to_string(https_port);
    location.append(target);  // origin form, also for an absolute-form request
    location += "\r\n";
    client_in_.erase(0, request_head_.head_size);
    respondLocally(308, reasonPhrase(308), "", close_after, location);
    return;
  }
  route_.backend = match.backend;
  if (route_.backend->endpoints.empty()) {
    client_in_.erase(0, request_head_.head_size);
    respondLocally(
        503, reasonPhrase(503),
        route_.backend->problem.empty() ? "no ready endpoints\n" : route_.backend->problem + "\n",
        close_after);
    return;
  }

  // The request head as the upstream gets it.
  upstream_head_.clear();
  UpstreamRequestContext context;
  context.target = target;
  context.authority = host_text.empty() ? std::string_view(host) : host_text;
  context.client_ip = client_ip_;
  context.tls = isTls();
  context.websocket = request_.websocket;
  appendUpstreamRequestHead(upstream_head_, request_head_, context);
  client_in_.erase(0, request_head_.head_size);

  route_.first_endpoint =
      worker_.pool().nextIndex(route_.backend->name, route_.backend->endpoints.size());
  if (!connectNext()) upstreamFailed(502, UpstreamError::ConnectFailed);
}

// Moves request body bytes from the client buffer to the upstream buffer, per framing.
void Connection::forwardRequestBody() {
  if (request_.body_done || client_in_.empty()) return;
  if (phase_ == Phase::Connecting) return;  // upstream_out_ is set when connected
  uint64_t limit = worker_.settings().max_body_bytes;
  if (request_.framing == http::BodyFraming::ContentLength) {
    size_t take = static_cast<size_t>(std::min<uint64_t>(request_.remaining, client_in_.size()));
    upstream_out_.append(client_in_, 0, take);
    client_in_.erase(0, take);
    request_.remaining -= take;
    if (request_.remaining == 0) request_.body_done = true;
  } else if (request_.framing == http::BodyFraming::Chunked) {
    bool too_large = false;
    auto result = request_.chunks.feed(client_in_, [&](std::string_view data) {
      request_.body_seen += data.size();
      if (limit > 0 && request_.body_seen > limit) too_large = true;
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
      request_.body_done = true;
    }
  }
  // A client that is still sending is making progress.
  if (!request_.body_done) deadline_ = worker_.now() + worker_.settings().body_timeout;
}

}  // namespace portico::proxy
