// HTTP/1.1 message heads and chunked bodies, parsed incrementally without allocation
// (h2o style: each call returns Complete, Incomplete or Error). Strict where leniency enables
// request smuggling (RFC 9112 §6.1, §6.3, §11.2):
//  - lines end in CRLF; a bare CR or LF, obs-fold, or whitespace before a header colon is an error;
//  - Transfer-Encoding together with Content-Length is an error; the only transfer coding
//    accepted is "chunked" (others: 501); Transfer-Encoding in an HTTP/1.0 request is an error;
//  - Content-Length must be digits; several must agree; more than one Host is an error;
//  - header names are tokens; values hold no control characters but HTAB.
// Views point into the caller's buffer, which must stay put while they are used.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace portico::proxy::http {

enum class ParseStatus { Complete, Incomplete, Error };

struct Header {
  std::string_view name;
  std::string_view value;  // without surrounding whitespace
};

inline constexpr size_t kMaxHeaders = 100;

enum class BodyFraming {
  None,           // no body
  ContentLength,  // exactly content_length bytes
  Chunked,        // chunked transfer coding
  UntilClose,     // responses only: the body ends when the connection closes
};

struct Limits {
  size_t max_head_bytes = 64 * 1024;  // request line/status line + headers
  size_t max_headers = kMaxHeaders;
};

struct MessageHead {
  // Request
  std::string_view method;
  std::string_view target;
  // Response
  int status = 0;
  std::string_view reason;

  int version_minor = 1;  // HTTP/1.x
  std::array<Header, kMaxHeaders> headers;
  size_t header_count = 0;
  size_t head_size = 0;  // bytes of the head including the final CRLF

  // Derived while parsing.
  std::string_view host;  // Host header (requests)
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;
  bool keep_alive = true;        // after this message (Connection, version)
  bool expect_continue = false;  // Expect: 100-continue
  bool upgrade = false;          // Connection: upgrade (only WebSocket is passed on)

  // For an Error: the status to answer with (400, 431, 501, 505) and why.
  int error_status = 0;
  const char* error = nullptr;

  std::string_view header(std::string_view name) const;  // first, case-insensitive
};

// ASCII case-insensitive comparison (header names and tokens, RFC 9110 §5.1).
bool equalsIgnoreCase(std::string_view a, std::string_view b);
// Whether a comma-separated header value (e.g. Connection) lists `token`, case-insensitively.
bool listContains(std::string_view value, std::string_view token);

ParseStatus parseRequestHead(std::string_view buffer, MessageHead& out, const Limits& limits = {});
// `request_method` decides whether the response has a body (HEAD, CONNECT).
ParseStatus parseResponseHead(std::string_view buffer, std::string_view request_method,
                              MessageHead& out, const Limits& limits = {});

// Incremental decoder of a chunked body (RFC 9112 §7.1). feed() consumes bytes and reports the
// data within them; the framing is validated, chunk extensions and trailers are dropped.
class ChunkedDecoder {
public:
  struct Result {
    ParseStatus status = ParseStatus::Incomplete;  // Complete once the last chunk and trailers end
    size_t consumed = 0;  // input bytes used (the rest belongs to the next message)
  };
  // Calls on_data(std::string_view) for each piece of body data found.
  template <typename OnData>
  Result feed(std::string_view input, OnData&& on_data);

  const char* error() const { return error_; }

private:
  enum class State {
    Size,
    SizeExt,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    Trailer,
    TrailerLf,
    TrailerLine,
    TrailerLineLf,
    Done
  };
  State state_ = State::Size;
  uint64_t remaining_ = 0;
  int size_digits_ = 0;
  size_t trailer_bytes_ = 0;
  const char* error_ = nullptr;

  bool step(char c);  // false on error; for every state but Data
};

template <typename OnData>
ChunkedDecoder::Result ChunkedDecoder::feed(std::string_view input, OnData&& on_data) {
  Result result;
  size_t i = 0;
  while (i < input.size() && state_ != State::Done) {
    if (state_ == State::Data) {
      size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size() - i));
      on_data(input.substr(i, take));
      i += take;
      remaining_ -= take;
      if (remaining_ == 0) state_ = State::DataCr;
      continue;
    }
    if (!step(input[i])) {
      result.status = ParseStatus::Error;
      result.consumed = i;
      return result;
    }
    ++i;
  }
  result.consumed = i;
  result.status = state_ == State::Done ? ParseStatus::Complete : ParseStatus::Incomplete;
  return result;
}

}  // namespace portico::proxy::http
