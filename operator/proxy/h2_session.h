// h2::ServerSession: the server side of one HTTP/2 connection (RFC 9113). nghttp2 owns the
// framing, HPACK and the protocol's state machine; this class turns its callbacks into request
// events for a handler and takes responses back, and adds the defences nghttp2 leaves to the
// application. No sockets and no clock of its own: the connection feeds it the bytes it read
// (with the time) and writes what produce() gives it, so it is tested without a network.
//
// Flow control both ways: request body bytes are acknowledged (WINDOW_UPDATE) only when the
// handler says they were passed on (consumed()), so a slow upstream slows the client down;
// response bytes leave only as the client's windows allow, and bufferedResponseBytes() tells
// the connection when to stop reading from the upstream.
//
// Defences (each counted; see Defence):
//   rapid reset (CVE-2023-44487)   once a connection opened `rapid_reset_min_streams`, more
//                                  than half of its streams reset by the client before their
//                                  response ended → GOAWAY ENHANCE_YOUR_CALM
//   CONTINUATION flood (CVE-2024-27316)  more than `max_continuations` CONTINUATION frames in
//                                  one header block → the connection ends
//   HPACK bomb                     a decoded header list over `max_header_list_bytes` or
//                                  `max_header_fields` → that stream is reset
//   SETTINGS/PING floods           more than `control_frames_per_second` of them → GOAWAY
//   empty-frame flood              more than `max_empty_frames` DATA frames in a row without
//                                  payload or END_STREAM → GOAWAY
//   concurrency                    SETTINGS_MAX_CONCURRENT_STREAMS; streams over it are refused
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/base/clock.h"

struct nghttp2_session;

namespace portico::proxy::h2 {

struct Field {
  std::string name;  // lower case (RFC 9113 §8.2.1)
  std::string value;
  bool operator==(const Field&) const = default;
};
using Fields = std::vector<Field>;

struct RequestHead {
  std::string method;
  std::string scheme;
  std::string authority;  // :authority, else the Host field (RFC 9113 §8.3.1)
  std::string path;
  Fields fields;  // the regular fields, in order
  std::optional<uint64_t> content_length;
};

enum class Defence : uint8_t {
  RapidReset,
  ContinuationFlood,
  HeaderListTooLarge,
  ControlFrameFlood,
  EmptyFrameFlood,
  StreamRefused,
};
inline constexpr size_t kDefenceCount = 6;
const char* defenceName(Defence defence);

// What sessions did, summed where they are shared (one per worker, read by a scrape on another
// thread; relaxed atomics).
struct SessionCounters {
  std::atomic<uint64_t> streams_opened{0};
  std::atomic<uint64_t> resets_received{0};  // RST_STREAM from clients
  std::atomic<uint64_t> resets_sent{0};
  std::atomic<uint64_t> goaways_received{0};
  std::atomic<uint64_t> goaways_sent{0};
  std::array<std::atomic<uint64_t>, kDefenceCount> defences{};

  uint64_t defence(Defence d) const {
    return defences[static_cast<size_t>(d)].load(std::memory_order_relaxed);
  }
  static void bump(std::atomic<uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }
};

struct SessionLimits {
  uint32_t max_concurrent_streams = 128;
  uint32_t initial_window = 256 * 1024;  // per stream: request body buffered before it is passed on
  size_t max_header_list_bytes =
      64 * 1024;  // decoded, name + value + 32 per field (RFC 9113 §6.5.2)
  size_t max_header_fields = 100;
  size_t max_continuations = 8;
  uint32_t control_frames_per_second = 1000;
  uint32_t max_empty_frames = 16;
  uint32_t rapid_reset_min_streams = 100;
};

class SessionHandler {
public:
  virtual ~SessionHandler() = default;
  // A request head is complete (HEADERS, with its CONTINUATIONs). `end_stream`: no body follows.
  virtual void onRequestHead(int32_t stream, RequestHead head, bool end_stream) = 0;
  // Request body bytes; call ServerSession::consumed() once they are passed on.
  virtual void onRequestData(int32_t stream, std::string_view data) = 0;
  // The request is complete; `trailers` holds its trailer fields, if any.
  virtual void onRequestEnd(int32_t stream, Fields trailers) = 0;
  // The stream is gone (finished, reset by either side, or refused); `error_code` is the
  // RST_STREAM/GOAWAY code (0 for a normal end). No call for this stream follows.
  virtual void onStreamClosed(int32_t stream, uint32_t error_code) = 0;
};

class ServerSession {
public:
  // `counters` (shared by the sessions of a worker) must outlive the session.
  ServerSession(SessionHandler& handler, const SessionLimits& limits, SessionCounters& counters);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // False when nghttp2 could not be set up (out of memory).
  bool valid() const { return session_ != nullptr; }

  // Feeds bytes read from the client. False when the connection must end: a protocol error or
  // a defence; produce() then yields the GOAWAY to write before closing.
  bool receive(std::string_view bytes, Clock::MonoTime now);
  // Appends frames ready to send to `out` until it holds at least `max_bytes` or nothing is
  // ready.
  void produce(std::string& out, size_t max_bytes);
  // Both false: the session is over (GOAWAY exchanged, or failed) and the connection may close.
  bool wantsRead() const;
  bool wantsWrite() const;

  // The response to `stream`: status, fields (no pseudo-fields, no connection-specific ones).
  // With `end_stream` there is no body; otherwise send body bytes with sendData() and end it
  // with endResponse(). False when the stream is gone.
  bool respond(int32_t stream, int status, const Fields& fields, bool end_stream);
  // An interim (1xx) response ahead of the final one (RFC 9113 §8.1). False when the stream is
  // gone or its final response has begun.
  bool sendInterim(int32_t stream, int status, const Fields& fields);
  void sendData(int32_t stream, std::string_view data);
  // Ends the response body, with trailers when given (gRPC's grpc-status travels there).
  void endResponse(int32_t stream, Fields trailers = {});
  void resetStream(int32_t stream, uint32_t error_code);
  // `bytes` of request body passed on: the client may send that much more.
  void consumed(int32_t stream, size_t bytes);
  // Graceful shutdown (RFC 9113 §6.8): GOAWAY naming the last stream accepted; open streams
  // finish; new ones are refused.
  void shutdown();

  // Response bytes queued for `stream` and not yet sent (the client's window is closed).
  size_t bufferedResponseBytes(int32_t stream) const;
  size_t openStreams() const { return streams_.size(); }

private:
  struct Stream {
    RequestHead head;
    Fields trailers;  // request trailers being received
    bool head_done = false;
    bool announced = false;   // the handler has the head (and gets onStreamClosed)
    bool oversized = false;   // the header block broke a limit: answered 431, nothing kept
    size_t header_bytes = 0;  // decoded so far for the block being received
    size_t header_fields = 0;
    size_t continuations = 0;
    size_t unconsumed = 0;  // request body delivered, not yet consumed()
    bool response_started = false;
    bool response_done = false;  // endResponse() or respond(end_stream) called
    std::string out;             // response body waiting for the client's window
    size_t out_sent = 0;
    bool out_end = false;
    Fields out_trailers;
    bool deferred = false;  // nghttp2 waits for more body: resume on sendData/endResponse
  };

  friend struct Callbacks;
  Stream* find(int32_t stream);
  const Stream* find(int32_t stream) const;
  void trip(Defence defence);  // counts it and ends the connection with ENHANCE_YOUR_CALM
  bool controlFrame(Clock::MonoTime now);
  void resumeIfDeferred(int32_t id, Stream& stream);

  SessionHandler& handler_;
  const SessionLimits limits_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, Stream> streams_;
  SessionCounters& counters_;
  bool failed_ = false;  // a defence or a callback asked for the connection to end
  Clock::MonoTime now_{};
  Clock::MonoTime control_window_start_{};
  uint32_t control_frames_in_window_ = 0;
  uint32_t empty_frames_in_a_row_ = 0;
  uint64_t streams_opened_ = 0;
  uint64_t premature_resets_ = 0;
};

}  // namespace portico::proxy::h2
