#include "operator/proxy/h2_frontend.h"

#include <nghttp2/nghttp2.h>

#include "operator/proxy/http_forwarding.h"
#include "operator/proxy/worker.h"

namespace portico::proxy {

namespace {

constexpr std::string_view kAcmePrefix = "/.well-known/acme-challenge/";  // RFC 8555 §8.3

h2::SessionLimits limitsFrom(const ProxySettings& settings) {
  h2::SessionLimits limits;
  limits.max_header_list_bytes = settings.max_head_bytes;
  return limits;
}

}  // namespace

// One stream: its routing and, when forwarded, its upstream exchange (whose sink it is).
// Streams and exchanges are freed by the worker after the loop turn (Worker::retire), never
// while one of their calls may still be on the stack.
struct H2Frontend::Stream final : ExchangeSink {
  H2Frontend& owner;
  int32_t id;
  std::string method;
  std::string log_target;
  std::string log_host;
  RouteTableConstSharedPtr table;  // kept while the stream is open: a swap never touches it
  const Backend* backend = nullptr;
  RequestSeriesPtr series;
  std::shared_ptr<UpstreamExchange> exchange;
  std::chrono::steady_clock::time_point start;
  int status = 0;
  bool logged = false;
  uint64_t body_seen = 0;

  Stream(H2Frontend& o, int32_t i) : owner(o), id(i) {}

  void retireExchange() {
    if (exchange) owner.worker_.retire(std::move(exchange));
    exchange.reset();
  }

  void onResponseHead(const http::MessageHead& head) override {
    status = head.status;
    ClientResponseContext context;
    context.hsts = owner.hsts(*this);
    context.server = owner.worker_.settings().server_header;
    context.date = owner.worker_.httpDate();
    h2::Fields fields;
    for (auto& field : h2ResponseFields(head, method, context))
      fields.push_back({std::move(field.name), std::move(field.value)});
    const bool no_body =
        head.framing == http::BodyFraming::None ||
        (head.framing == http::BodyFraming::ContentLength && head.content_length == 0);
    owner.session_.respond(id, head.status, fields, no_body);
  }
  void onInterimResponse(const http::MessageHead& head) override {
    h2::Fields fields;
    for (auto& field : h2ResponseFields(head, method, ClientResponseContext{}))
      fields.push_back({std::move(field.name), std::move(field.value)});
    (void)owner.session_.sendInterim(id, head.status, fields);
  }
  void onResponseData(std::string_view data) override { owner.session_.sendData(id, data); }
  void onResponseEnd() override {
    owner.session_.endResponse(id);
    owner.logAccess(*this, status);
    retireExchange();
  }
  void onExchangeFailed(int failed_status, UpstreamError reason) override {
    if (series && failed_status != 408) series->countUpstreamError(reason);
    retireExchange();
    if (failed_status != 0) {
      owner.respondLocally(*this, failed_status,
                           failed_status == 408   ? "request body not received in time\n"
                           : failed_status == 504 ? "upstream timed out\n"
                                                  : "upstream connection failed\n");
    } else {
      owner.session_.resetStream(id, NGHTTP2_INTERNAL_ERROR);  // the response is cut
      owner.logAccess(*this, status);
    }
  }
  void onRequestBodySent(size_t bytes) override { owner.session_.consumed(id, bytes); }
  void afterIo() override { owner.outputReady(); }
  bool responseBackedUp() const override {
    return owner.session_.bufferedResponseBytes(id) >= owner.worker_.settings().buffer_high_water;
  }
};

H2Frontend::H2Frontend(Worker& worker, std::string client_ip, std::function<void()> wake)
    : worker_(worker),
      client_ip_(std::move(client_ip)),
      wake_(std::move(wake)),
      session_(*this, limitsFrom(worker.settings()), worker.stats().http2()) {
  worker_.stats().http2ConnectionOpened();
}

H2Frontend::~H2Frontend() {
  abandonAll();
  worker_.stats().http2StreamsOpen(-static_cast<int64_t>(streams_.size()));
}

void H2Frontend::abandonAll() {
  for (auto& [id, stream] : streams_) {
    if (stream->exchange) stream->exchange->abandon();
    stream->retireExchange();
  }
}

void H2Frontend::outputReady() {
  if (!busy_ && wake_) wake_();
}

bool H2Frontend::receive(std::string_view bytes) {
  busy_ = true;
  const bool go_on = session_.receive(bytes, worker_.now());
  busy_ = false;
  return go_on;
}

void H2Frontend::produce(std::string& out, size_t max_bytes) {
  busy_ = true;
  session_.produce(out, max_bytes);
  // Exchanges held back by a full client buffer read on (their data is produced next time).
  for (auto& [id, stream] : streams_)
    if (stream->exchange && !stream->responseBackedUp()) stream->exchange->resume();
  session_.produce(out, max_bytes);
  busy_ = false;
}

void H2Frontend::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  session_.shutdown();
}

void H2Frontend::checkTimeout(std::chrono::steady_clock::time_point now) {
  busy_ = true;
  for (auto& [id, stream] : streams_)
    if (stream->exchange) stream->exchange->checkTimeout(now);
  busy_ = false;
}

std::string_view H2Frontend::hsts(const Stream& stream) const {
  return stream.table ? std::string_view(stream.table->listeners().hsts) : std::string_view();
}

void H2Frontend::onRequestHead(int32_t id, h2::RequestHead head, bool end_stream) {
  auto& slot = streams_[id];
  if (!slot) worker_.stats().http2StreamsOpen(1);
  slot = std::make_shared<Stream>(*this, id);
  Stream& stream = *slot;
  const ProxySettings& settings = worker_.settings();
  stream.start = worker_.now();
  stream.method = head.method;
  if (settings.access_log) {
    stream.log_target = head.path;
    stream.log_host = head.authority;
  }
  stream.table = worker_.currentTable();
  if (head.method == "CONNECT") {
    respondLocally(stream, 501, "CONNECT is not supported\n");
    return;
  }
  std::string host, path;
  if (!normalizeHost(head.authority, host) || !normalizePath(head.path, path)) {
    respondLocally(stream, 400, "invalid host or request target\n");
    return;
  }
  if (settings.max_body_bytes > 0 && head.content_length &&
      *head.content_length > settings.max_body_bytes) {
    respondLocally(stream, 413, "request body too large\n");
    return;
  }
  // ACME HTTP-01 (RFC 8555 §8.3): answered for any host, ahead of routing.
  if (path.compare(0, kAcmePrefix.size(), kAcmePrefix) == 0) {
    const std::string* key_authorization =
        stream.table
            ? stream.table->acmeKeyAuthorization(std::string_view(path).substr(kAcmePrefix.size()))
            : nullptr;
    if (key_authorization)
      respondLocally(stream, 200, *key_authorization);
    else
      respondLocally(stream, 404, "unknown ACME challenge token\n");
    return;
  }
  MatchResult match = stream.table ? stream.table->match(host, path) : MatchResult{};
  if (!match.found()) {
    respondLocally(stream, 404, "no route for this host and path\n");
    return;
  }
  stream.series = worker_.seriesFor(stream.table.get(), match);
  stream.backend = match.backend;
  if (stream.backend->endpoints.empty()) {
    respondLocally(
        stream, 503,
        stream.backend->problem.empty() ? "no ready endpoints\n" : stream.backend->problem + "\n");
    return;
  }
  forward(stream, head, host, end_stream);
}

void H2Frontend::forward(Stream& stream, const h2::RequestHead& head, std::string_view host,
                         bool end_stream) {
  // The request as an HTTP/1.1 head: the fields as headers (cookie crumbs joined again, RFC
  // 9113 §8.2.3), the body framed by its Content-Length or chunked.
  http::MessageHead request;
  request.method = head.method;
  request.target = head.path;
  std::string cookie;
  for (const h2::Field& field : head.fields) {
    if (field.name == "cookie") {
      if (!cookie.empty()) cookie += "; ";
      cookie += field.value;
      continue;
    }
    if (request.header_count == request.headers.size()) break;  // bounded by the session too
    request.headers[request.header_count++] = {field.name, field.value};
  }
  if (!cookie.empty() && request.header_count < request.headers.size())
    request.headers[request.header_count++] = {"cookie", cookie};
  if (end_stream) {
    request.framing = http::BodyFraming::None;
  } else if (head.content_length) {
    request.framing = http::BodyFraming::ContentLength;
    request.content_length = *head.content_length;
  } else {
    request.framing = http::BodyFraming::Chunked;
  }
  UpstreamRequestContext context;
  context.target = head.path;
  context.authority = head.authority.empty() ? host : std::string_view(head.authority);
  context.client_ip = client_ip_;
  context.tls = true;  // HTTP/2 is offered over TLS only
  std::string upstream_head;
  appendUpstreamRequestHead(upstream_head, request, context);
  stream.exchange = std::make_shared<UpstreamExchange>(
      worker_, stream, *stream.backend, std::move(upstream_head), stream.method, request.framing);
  stream.exchange->start();
}

void H2Frontend::onRequestData(int32_t id, std::string_view data) {
  auto it = streams_.find(id);
  if (it == streams_.end() || !it->second->exchange) {
    session_.consumed(id, data.size());  // answered locally already: the body goes nowhere
    return;
  }
  Stream& stream = *it->second;
  stream.body_seen += data.size();
  const uint64_t limit = worker_.settings().max_body_bytes;
  if (limit > 0 && stream.body_seen > limit) {  // no Content-Length said so up front
    stream.exchange->abandon();
    stream.retireExchange();
    session_.consumed(id, data.size());
    respondLocally(stream, 413, "request body too large\n");
    return;
  }
  stream.exchange->sendBody(data);
}

void H2Frontend::onRequestEnd(int32_t id, h2::Fields) {
  auto it = streams_.find(id);
  if (it != streams_.end() && it->second->exchange) it->second->exchange->endBody();
}

void H2Frontend::onStreamClosed(int32_t id, uint32_t) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream& stream = *it->second;
  if (stream.exchange) {  // the client went away mid-exchange: the upstream cannot be reused
    stream.exchange->abandon();
    stream.retireExchange();
  }
  if (!stream.logged) logAccess(stream, 499);  // closed before a response was complete
  worker_.retire(std::move(it->second));
  streams_.erase(it);
  worker_.stats().http2StreamsOpen(-1);
}

void H2Frontend::respondLocally(Stream& stream, int status, std::string_view body,
                                const h2::Fields& extra) {
  h2::Fields fields = {{"content-type", "text/plain; charset=utf-8"},
                       {"content-length", std::to_string(body.size())},
                       {"date", std::string(worker_.httpDate())}};
  if (const std::string& server = worker_.settings().server_header; !server.empty())
    fields.push_back({"server", server});
  if (std::string_view value = hsts(stream); !value.empty())
    fields.push_back({"strict-transport-security", std::string(value)});
  for (const auto& field : extra) fields.push_back(field);
  const bool head_only = stream.method == "HEAD" || body.empty();
  if (!session_.respond(stream.id, status, fields, head_only))
    session_.resetStream(stream.id, NGHTTP2_CANCEL);  // a response had begun already
  else if (!head_only) {
    session_.sendData(stream.id, body);
    session_.endResponse(stream.id);
  }
  logAccess(stream, status);
}

void H2Frontend::logAccess(Stream& stream, int status) {
  if (stream.logged) return;
  stream.logged = true;
  worker_.recordRequest({stream.series, ProxyStats::Protocol::Http2, status,
                         worker_.now() - stream.start, client_ip_, stream.method, stream.log_target,
                         stream.log_host,
                         stream.backend ? std::string_view(stream.backend->name) : ""});
}

}  // namespace portico::proxy
