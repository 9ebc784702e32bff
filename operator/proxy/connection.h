// Connection: one client connection through its requests (HTTP/1.1 keep-alive and pipelining),
// each forwarded to an upstream endpoint with bodies streamed both ways, never buffered whole.
// All I/O is non-blocking on the worker's EventLoop; nothing here throws.
//
// Per request: parse head → normalize host/path → ACME HTTP-01 token? answer it → route
// (newest RouteTable when the head completes; an in-flight request keeps its table) →
// HTTP→HTTPS redirect? 308 → no endpoints? 503 → connect (a pooled connection first; on a
// failed connect, the next endpoint) → request head rewritten (hop-by-hop headers dropped,
// X-Forwarded-For/-Proto/-Host added, Host kept) → request body → response head and body back.
// A WebSocket upgrade answered 101 turns the connection into a tunnel (connection_tunnel.cpp).
//
// When ALPN chooses h2, the connection hands its streams to an H2Frontend (connection_http2.cpp)
// and keeps only the socket, TLS, backpressure and its idle timeout.
//
// One class, six files: connection.cpp (life cycle, client I/O, local answers, timeouts),
// connection_tls.cpp, connection_request.cpp, connection_upstream.cpp, connection_tunnel.cpp
// and connection_http2.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "operator/base/openssl_ptr.h"
#include "operator/proxy/event_loop.h"
#include "operator/proxy/h2_frontend.h"
#include "operator/proxy/http_parser.h"
#include "operator/proxy/proxy_stats.h"
#include "operator/proxy/route_table.h"
#include "operator/proxy/tls_store.h"
#include "operator/proxy/unique_fd.h"

namespace portico::proxy {

class Worker;

class Connection {
public:
  // `tls` is null for a plain-HTTP listener.
  Connection(Worker& worker, int client_fd, std::string client_ip,
             std::shared_ptr<const TlsStore> tls);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start();
  bool finished() const { return phase_ == Phase::Done; }
  // Shutting down: a connection between requests (nothing received, nothing to send) closes.
  void closeIfIdle(std::chrono::steady_clock::time_point now);
  void checkTimeout(std::chrono::steady_clock::time_point now);

private:
  enum class Phase {
    ReadHead,    // waiting for (the rest of) a request head
    Connecting,  // non-blocking connect to an upstream endpoint
    Forwarding,  // request (body) going up, response coming down
    Flushing,    // a local answer is written, then the connection closes
    Tunnel,      // after a WebSocket upgrade (101): bytes relayed both ways until one side ends
    Http2,       // ALPN chose h2: the H2Frontend has the streams (h2_frontend.cpp)
    Done,
  };

  struct Side final : IoHandler {
    Connection* owner;
    bool upstream;
    void onIo(uint32_t events) noexcept override { owner->onIo(upstream, events); }
  };

  void onIo(bool upstream, uint32_t events);
  bool isTls() const { return ssl_ != nullptr; }
  // The listener's Strict-Transport-Security value, on TLS connections only ("" otherwise).
  std::string_view hstsValue() const;
  // Client I/O, plain or TLS: > 0 bytes, 0 end of stream, -1 would block, -2 failed.
  ssize_t clientRecv(char* buffer, size_t size);
  ssize_t clientSend(const char* buffer, size_t size);
  bool continueHandshake();  // true once the TLS handshake is done
  void readClient();
  void readUpstream();
  bool flushClient();
  bool flushUpstream();
  void updateInterest();

  void processBuffered();  // parse/forward whatever client bytes are buffered
  void startRequest();
  void respondLocally(int status, std::string_view reason, std::string_view body, bool close,
                      std::string_view extra_headers = {});
  bool connectNext();
  void onUpstreamConnected();
  void upstreamFailed(int status, UpstreamError reason);
  bool retryOnFreshConnection();
  void forwardRequestBody();
  void processUpstreamData();
  void finishExchange();
  void startHttp2();
  void processHttp2();  // feeds what the client sent to the session
  void writeHttp2();    // produces the session's frames and writes them
  void startTunnel();
  void relayTunnel();  // moves what either side sent to the other
  void closeUpstream(bool reusable);
  void close();
  void logAccess(int status);

  // One exchange's state, reset by assignment when the next request head is complete.
  struct RequestState {
    std::string method;
    std::string log_target;  // copies for the access log (only when it is on)
    std::string log_host;
    bool websocket = false;  // the request asks for a WebSocket upgrade, passed on
    http::BodyFraming framing = http::BodyFraming::None;
    uint64_t remaining = 0;  // Content-Length bytes not yet forwarded
    uint64_t body_seen = 0;  // chunked body bytes so far (for the size limit)
    http::ChunkedDecoder chunks;
    bool body_done = true;
    std::string origin_target;  // an absolute-form target's path when it had to be rebuilt
  };
  struct RouteState {
    RouteTableConstSharedPtr table;  // the table the request was matched with
    const Backend* backend = nullptr;
    RequestSeriesPtr series;   // where the request is counted once it ends
    std::string endpoint_key;  // "ip:port" of the endpoint in use, for the pool
    std::string endpoint_address;
    uint16_t endpoint_port = 0;
    bool reused_upstream = false;  // the exchange runs on a kept-alive connection
    bool fresh_only = false;       // retrying: open a new connection, reuse none
    uint32_t attempts = 0;
    uint32_t first_endpoint = 0;
  };
  struct ResponseState {
    bool head_done = false;
    http::BodyFraming framing = http::BodyFraming::None;
    bool chunked = false;  // the body goes to the client chunk-framed by the proxy
    uint64_t remaining = 0;
    http::ChunkedDecoder chunks;
    bool upstream_reusable = false;
    int status = 0;
  };

  Worker& worker_;
  UniqueFd client_fd_;
  UniqueFd upstream_fd_;
  std::string client_ip_;
  Side client_side_;
  Side upstream_side_;
  uint32_t client_events_ = 0;  // the interest registered with epoll, to skip no-op updates
  uint32_t upstream_events_ = 0;
  Phase phase_ = Phase::ReadHead;
  bool client_eof_ = false;
  std::shared_ptr<const TlsStore> tls_store_;  // the certificates this connection started with
  SslPtr ssl_;
  bool handshake_done_ = true;
  bool tls_want_write_ = false;  // OpenSSL needs the socket writable to go on
  bool tls_failed_ = false;      // a read or write failed: no close_notify

  std::string client_in_;
  std::string client_out_;
  size_t client_out_sent_ = 0;
  std::string upstream_in_;
  std::string upstream_out_;
  size_t upstream_out_sent_ = 0;
  // The rewritten request head, kept until the upstream connection is up (its buffer is
  // reused from request to request).
  std::string upstream_head_;

  // After a keep-alive exchange the upstream connection stays with this client, registered and
  // idle, for its next request to the same endpoint; it goes to the pool under `parked_key_`.
  bool upstream_parked_ = false;
  std::string parked_key_;
  std::string parked_address_;
  uint16_t parked_port_ = 0;
  bool client_keep_alive_ = true;  // the client connection may carry another request
  bool answered_ = false;          // a request was answered on this connection

  std::unique_ptr<H2Frontend> h2_;  // in Phase::Http2

  http::MessageHead request_head_;  // its views point into client_in_ until the head is erased
  RequestState request_;
  RouteState route_;
  ResponseState response_;

  std::chrono::steady_clock::time_point deadline_;
  std::chrono::steady_clock::time_point request_start_;
};

}  // namespace portico::proxy
