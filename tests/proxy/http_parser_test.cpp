#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "operator/proxy/http_parser.h"

using namespace portico::proxy::http;

namespace {

// The head's views point into the buffer: keep it on the heap, alive as long as the result.
struct Parsed {
  std::unique_ptr<std::string> buffer;
  ParseStatus status;
  MessageHead head;
};

Parsed request(const std::string& text, Limits limits = {}) {
  Parsed p;
  p.buffer = std::make_unique<std::string>(text);
  p.status = parseRequestHead(*p.buffer, p.head, limits);
  return p;
}

std::string decodeChunked(const std::string& body, ParseStatus* status, size_t* consumed,
                          size_t step = 0) {
  ChunkedDecoder decoder;
  std::string out;
  size_t used = 0;
  ChunkedDecoder::Result r;
  if (step == 0) step = body.size();
  for (size_t i = 0; i < body.size(); i += step) {
    std::string_view piece = std::string_view(body).substr(i, step);
    r = decoder.feed(piece, [&](std::string_view data) { out.append(data); });
    used += r.consumed;
    if (r.status != ParseStatus::Incomplete) break;
  }
  *status = r.status;
  *consumed = used;
  return out;
}

}  // namespace

TEST_CASE("http: a simple GET, keep-alive by default in HTTP/1.1") {
  auto p = request("GET /a?b=c HTTP/1.1\r\nHost: Example.com:8080\r\nUser-Agent: t\r\n\r\nNEXT");
  REQUIRE(p.status == ParseStatus::Complete);
  CHECK(p.head.method == "GET");
  CHECK(p.head.target == "/a?b=c");
  CHECK(p.head.host == "Example.com:8080");
  CHECK(p.head.header("user-agent") == "t");
  CHECK(p.head.framing == BodyFraming::None);
  CHECK(p.head.keep_alive);
  CHECK(
      p.head.head_size ==
      std::string("GET /a?b=c HTTP/1.1\r\nHost: Example.com:8080\r\nUser-Agent: t\r\n\r\n").size());
}

TEST_CASE("http: incomplete heads wait; oversized heads get 431") {
  CHECK(request("GET / HTTP/1.1\r\nHost: a\r\n").status == ParseStatus::Incomplete);
  Limits small;
  small.max_head_bytes = 64;
  auto big = request("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(100, 'x'), small);
  CHECK(big.status == ParseStatus::Error);
  CHECK(big.head.error_status == 431);
  Limits few;
  few.max_headers = 2;
  auto many = request("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", few);
  CHECK(many.head.error_status == 431);
}

TEST_CASE("http: a head that can never be valid is refused before it ends, not at the timeout") {
  struct Row {
    const char* name;
    std::string bytes;
  };
  const Row rows[] = {
      {"bare LF after the request line", "GET / HTTP/1.1\n"},
      {"bare LF request, no CR anywhere", "GET / HTTP/1.1\nHost: a\n"},
      {"bare LF as the first byte", "\n"},
      {"bare CR inside a header", "GET / HTTP/1.1\r\nHost: a\rb"},
      {"NUL in the request line", std::string("GET /\0 HTTP/1.1", 16)},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      auto parsed = request(row.bytes);
      CHECK(parsed.status == ParseStatus::Error);
      CHECK(parsed.head.error_status == 400);
    }
  }
  // A CR at the very end may be followed by its LF in the next read.
  CHECK(request("GET / HTTP/1.1\r").status == ParseStatus::Incomplete);
}

TEST_CASE("http: connection persistence by version and Connection header") {
  CHECK_FALSE(request("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").head.keep_alive);
  CHECK_FALSE(request("GET / HTTP/1.0\r\n\r\n").head.keep_alive);
  CHECK(request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").head.keep_alive);
  CHECK(request("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
            .head.expect_continue);
}

TEST_CASE("http: body framing of requests") {
  auto cl = request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n");
  CHECK(cl.head.framing == BodyFraming::ContentLength);
  CHECK(cl.head.content_length == 42);
  CHECK(request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7, 7\r\n\r\n").head.content_length ==
        7);
  CHECK(request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n").head.framing ==
        BodyFraming::Chunked);
  CHECK(request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").head.framing ==
        BodyFraming::None);
}

// Request smuggling and malformed input (RFC 9112 §2.2, §3.2, §5, §6.1, §6.3, §11.2).
TEST_CASE("http: smuggling defences and malformed requests") {
  struct Row {
    const char* name;
    std::string text;
    int status;
  };
  const Row rows[] = {
      {"CL and TE together",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"conflicting Content-Lengths",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
      {"Content-Length list that disagrees",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", 400},
      {"signed Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400},
      {"hex Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", 400},
      {"huge Content-Length",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
      {"unknown transfer coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
       501},
      {"chunked not last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
       501},
      {"chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
       501},
      {"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"space before colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n",
       400},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  continued\r\n\r\n", 400},
      {"bare LF line end", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
      {"bare CR in a value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400},
      {"NUL in a value", std::string("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 29), 400},
      {"two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400},
      {"HTTP/2.0 request line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
      {"garbage version", "GET / FTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"missing target", "GET  HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"extra space in request line", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
      {"method with a slash", "GE/T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"empty header name", "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", 400},
      {"leading empty line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      auto p = request(row.text);
      CHECK(p.status == ParseStatus::Error);
      CHECK(p.head.error_status == row.status);
      CHECK(p.head.error != nullptr);
    }
  }
}

TEST_CASE("http: responses — status, framing, bodies that cannot exist") {
  MessageHead h;
  REQUIRE(parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "GET", h) ==
          ParseStatus::Complete);
  CHECK(h.status == 200);
  CHECK(h.reason == "OK");
  CHECK(h.framing == BodyFraming::ContentLength);
  REQUIRE(parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD", h) ==
          ParseStatus::Complete);
  CHECK(h.framing == BodyFraming::None);
  REQUIRE(parseResponseHead("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", "GET", h) ==
          ParseStatus::Complete);
  CHECK(h.framing == BodyFraming::None);
  REQUIRE(parseResponseHead("HTTP/1.1 200 OK\r\n\r\n", "GET", h) == ParseStatus::Complete);
  CHECK(h.framing == BodyFraming::UntilClose);
  CHECK_FALSE(h.keep_alive);
  REQUIRE(parseResponseHead("HTTP/1.1 204\r\n\r\n", "GET", h) == ParseStatus::Complete);
  CHECK(h.status == 204);
  REQUIRE(parseResponseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", h) ==
          ParseStatus::Complete);
  CHECK(h.framing == BodyFraming::Chunked);
  CHECK(parseResponseHead("HTTP/1.1 2x0 OK\r\n\r\n", "GET", h) == ParseStatus::Error);
  CHECK(h.error_status == 502);
  CHECK(parseResponseHead(
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "GET",
            h) == ParseStatus::Error);
}

TEST_CASE("http: chunked bodies decode across any split, and stop at the message end") {
  const std::string body = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT REQUEST";
  for (size_t step : {0, 1, 2, 3, 7}) {
    CAPTURE(step);
    ParseStatus status;
    size_t consumed;
    CHECK(decodeChunked(body, &status, &consumed, step) == "hello world");
    CHECK(status == ParseStatus::Complete);
    CHECK(body.substr(consumed) == "NEXT REQUEST");
  }
}

TEST_CASE("http: malformed chunked bodies are errors") {
  const char* rows[] = {"x\r\n",         "5\nhello\r\n0\r\n\r\n", "5\r\nhelloX\r\n",
                        "\r\n",          "fffffffffffffffff\r\n", "0\r\nBad\nTrailer\r\n\r\n",
                        "5\r\nhello\r\r"};
  for (const char* row : rows) {
    SUBCASE(row) {
      ParseStatus status;
      size_t consumed;
      decodeChunked(row, &status, &consumed);
      CHECK(status == ParseStatus::Error);
    }
  }
}

TEST_CASE("http: header list membership is case-insensitive and trims whitespace") {
  CHECK(listContains("keep-alive, X-Secret ,Upgrade", "x-secret"));
  CHECK(listContains("close", "CLOSE"));
  CHECK_FALSE(listContains("x-secrets", "x-secret"));
  CHECK_FALSE(listContains("", "close"));
  CHECK(equalsIgnoreCase("Content-Length", "content-length"));
  CHECK_FALSE(equalsIgnoreCase("Content-Length", "content-lengths"));
}
