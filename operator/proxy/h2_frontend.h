// H2Frontend: the HTTP/2 side of a client connection whose TLS handshake chose "h2" (ALPN).
// The Connection keeps the socket, TLS and timeouts; this keeps the h2::ServerSession and one
// exchange per stream. Each stream is routed like an HTTP/1.1 request (the newest table when
// its head completes; an open stream keeps its table), answered locally (ACME token, 404, 503,
// 400, 413, 501) or forwarded upstream over HTTP/1.1 (UpstreamExchange) with the same head
// rewrite (http_forwarding), limits, timeouts, metrics and access log as HTTP/1.1.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "operator/proxy/h2_session.h"
#include "operator/proxy/proxy_stats.h"
#include "operator/proxy/route_table.h"
#include "operator/proxy/upstream_exchange.h"

namespace portico::proxy {

class Worker;

class H2Frontend final : public h2::SessionHandler {
public:
  // `wake` is called when streams have output for the client outside the connection's own
  // calls (an upstream answered): the connection then produces and writes.
  H2Frontend(Worker& worker, std::string client_ip, std::function<void()> wake);
  ~H2Frontend() override;
  H2Frontend(const H2Frontend&) = delete;
  H2Frontend& operator=(const H2Frontend&) = delete;

  bool valid() const { return session_.valid(); }
  // Bytes read from the client; false when the connection must end once `produce` is written.
  bool receive(std::string_view bytes);
  // Frames to send, appended to `out` up to `max_bytes`; then exchanges held back by a full
  // client buffer read their upstream again.
  void produce(std::string& out, size_t max_bytes);
  // Both false: the session is over.
  bool wantsRead() const { return session_.wantsRead(); }
  bool wantsWrite() const { return session_.wantsWrite(); }
  // Draining: GOAWAY now; open streams finish.
  void shutdown();
  size_t openStreams() const { return streams_.size(); }
  void checkTimeout(std::chrono::steady_clock::time_point now);
  // The connection is closing: every upstream exchange is dropped (not pooled).
  void abandonAll();

  // h2::SessionHandler
  void onRequestHead(int32_t id, h2::RequestHead head, bool end_stream) override;
  void onRequestData(int32_t id, std::string_view data) override;
  void onRequestEnd(int32_t id, h2::Fields trailers) override;
  void onStreamClosed(int32_t id, uint32_t error_code) override;

private:
  struct Stream;
  void respondLocally(Stream& stream, int status, std::string_view body,
                      const h2::Fields& extra = {});
  void forward(Stream& stream, const h2::RequestHead& head, std::string_view host, bool end_stream);
  void outputReady();
  void logAccess(Stream& stream, int status);
  std::string_view hsts(const Stream& stream) const;

  Worker& worker_;
  std::string client_ip_;
  std::function<void()> wake_;
  h2::ServerSession session_;
  std::map<int32_t, std::shared_ptr<Stream>> streams_;
  bool shut_down_ = false;
  bool busy_ = false;  // inside receive() or produce(): the connection writes afterwards anyway
};

}  // namespace portico::proxy
