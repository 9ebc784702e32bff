// UpstreamExchange: one request forwarded to an HTTP/1.1 upstream endpoint and its response
// read back, for a client side that is not an HTTP/1.1 connection (an HTTP/2 stream). It picks
// the endpoint (round-robin; a pooled idle connection first; the next endpoint when a connect
// fails), writes the rewritten request head and the body as the client side hands it over,
// parses the response (interim responses passed on, framing decoded) and hands head, body bytes
// and the end to its sink. A reusable connection goes back to the worker's pool at the end.
// Backpressure: it stops reading the upstream while the sink says the client lags.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "operator/proxy/event_loop.h"
#include "operator/proxy/http_parser.h"
#include "operator/proxy/proxy_stats.h"
#include "operator/proxy/route_table.h"
#include "operator/proxy/unique_fd.h"

namespace portico::proxy {

class Worker;

class ExchangeSink {
public:
  virtual ~ExchangeSink() = default;
  // An interim response (100 Continue, 103 Early Hints) ahead of the final one.
  virtual void onInterimResponse(const http::MessageHead& head) = 0;
  // The final response head (1xx are not passed on). Its views live until the call returns.
  virtual void onResponseHead(const http::MessageHead& head) = 0;
  virtual void onResponseData(std::string_view data) = 0;
  virtual void onResponseEnd() = 0;
  // No response head came: answer locally with `status` (502, 504, or 408 when the client
  // stopped sending its body). After the head: the response is cut (`status` 0); the client
  // side must end the stream abnormally.
  virtual void onExchangeFailed(int status, UpstreamError reason) = 0;
  // Request body bytes the upstream took (the client may send that much more).
  virtual void onRequestBodySent(size_t bytes) = 0;
  // True while the client side holds as much response as it should: stop reading.
  virtual bool responseBackedUp() const = 0;
  // The exchange handled an event of its socket and is off the stack (but for this call):
  // the time to write what the calls above produced. The callbacks above never write.
  virtual void afterIo() = 0;
};

class UpstreamExchange final : public IoHandler {
public:
  // `request_head` is the rewritten head (appendUpstreamRequestHead); `method` decides whether
  // the response has a body; `body_framing` is the framing that head announced (None, a
  // Content-Length, or chunked, which sendBody() applies).
  UpstreamExchange(Worker& worker, ExchangeSink& sink, const Backend& backend,
                   std::string request_head, std::string method, http::BodyFraming body_framing);
  ~UpstreamExchange() override;
  UpstreamExchange(const UpstreamExchange&) = delete;
  UpstreamExchange& operator=(const UpstreamExchange&) = delete;

  // Connects (or takes a pooled connection). The sink may hear of failure before it returns.
  void start();
  void sendBody(std::string_view data);
  void endBody();
  // The client side took response bytes: read the upstream again if it was held back.
  void resume();
  void checkTimeout(std::chrono::steady_clock::time_point now);
  // Abandons the exchange (the client went away): the connection is closed, not pooled.
  void abandon();
  size_t bufferedToUpstream() const { return out_.size() - out_sent_; }

  void onIo(uint32_t events) noexcept override;

private:
  enum class Phase { Connecting, Exchanging, Done };

  void handleIo(uint32_t events);
  bool connectNext();
  bool retryOnFreshConnection();
  void connected();
  bool flush();
  void readResponse();
  void processResponse();
  void fail(int status, UpstreamError reason);
  void finish(bool reusable);
  void updateInterest();
  void closeSocket();

  Worker& worker_;
  ExchangeSink& sink_;
  const Backend& backend_;
  std::string method_;
  http::BodyFraming body_framing_;
  bool body_done_;
  Phase phase_ = Phase::Connecting;
  UniqueFd fd_;
  uint32_t events_ = 0;
  std::string endpoint_key_;
  uint32_t attempts_ = 0;
  uint32_t first_endpoint_ = 0;
  bool reused_ = false;
  bool fresh_only_ = false;  // retrying after a reused connection failed: open a new one
  std::string out_;          // head, then body, to the upstream
  size_t out_sent_ = 0;
  std::string request_head_;      // kept for a retry on a fresh connection
  size_t body_bytes_queued_ = 0;  // body bytes in out_, not yet reported as sent
  std::string in_;
  bool head_done_ = false;
  http::BodyFraming response_framing_ = http::BodyFraming::None;
  uint64_t response_remaining_ = 0;
  http::ChunkedDecoder response_chunks_;
  bool reusable_ = false;
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace portico::proxy
