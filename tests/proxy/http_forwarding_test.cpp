#include <doctest/doctest.h>

#include <string>

#include "operator/proxy/http_forwarding.h"
#include "operator/proxy/http_parser.h"

using namespace portico::proxy;

namespace {

// The upstream head for a client request, with the target and authority the connection derives.
std::string upstreamHead(const std::string& raw, bool websocket = false) {
  http::MessageHead head;
  REQUIRE(http::parseRequestHead(raw, head) == http::ParseStatus::Complete);
  SplitTarget split = splitRequestTarget(head.target);
  UpstreamRequestContext context;
  context.target = split.origin;
  context.authority = split.absolute ? split.authority : head.host;
  context.client_ip = "192.0.2.1";
  context.websocket = websocket;
  std::string out;
  appendUpstreamRequestHead(out, head, context);
  return out;
}

struct ClientHead {
  std::string text;
  ClientResponsePlan plan;
};

ClientHead clientHead(const std::string& raw, int client_minor, std::string_view method = "GET",
                      std::string_view server = "portico") {
  http::MessageHead head;
  REQUIRE(http::parseResponseHead(raw, method, head) == http::ParseStatus::Complete);
  ClientResponseContext context;
  context.client_version_minor = client_minor;
  context.keep_alive = true;
  context.server = server;
  context.date = "Wed, 02 Dec 2026 10:00:00 GMT";
  ClientHead out;
  out.plan = appendClientResponseHead(out.text, head, method, context);
  return out;
}

}  // namespace

TEST_CASE("forwarding: the request head the upstream gets") {
  struct Row {
    const char* name;
    const char* request;
    const char* expected;
  };
  const Row rows[] = {
      {"origin form: Host kept, X-Forwarded-* added",
       "GET /a?x=1 HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n",
       "GET /a?x=1 HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\nX-Forwarded-For: 192.0.2.1\r\n"
       "X-Forwarded-Proto: http\r\nX-Forwarded-Host: a.example\r\n\r\n"},
      {"absolute form: the URI's authority replaces Host (RFC 9112 §3.2.2)",
       "GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n",
       "GET /x HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 192.0.2.1\r\n"
       "X-Forwarded-Proto: http\r\nX-Forwarded-Host: a.example\r\n\r\n"},
      {"absolute form without a path",
       "GET HTTP://a.example:8080 HTTP/1.1\r\nHost: b.example\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: a.example:8080\r\nX-Forwarded-For: 192.0.2.1\r\n"
       "X-Forwarded-Proto: http\r\nX-Forwarded-Host: a.example:8080\r\n\r\n"},
      {"Connection: Host does not strip Host; Connection-listed headers go",
       "GET / HTTP/1.1\r\nHost: a.example\r\nConnection: Host, X-Secret\r\nX-Secret: 1\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 192.0.2.1\r\n"
       "X-Forwarded-Proto: http\r\nX-Forwarded-Host: a.example\r\n\r\n"},
      {"Connection: Content-Length does not strip the framing",
       "POST / HTTP/1.1\r\nHost: a.example\r\nConnection: content-length\r\n"
       "Content-Length: 5\r\n\r\n",
       "POST / HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 192.0.2.1\r\n"
       "X-Forwarded-Proto: http\r\nX-Forwarded-Host: a.example\r\nContent-Length: 5\r\n\r\n"},
      {"hop-by-hop headers dropped, chunked framing rewritten",
       "POST / HTTP/1.1\r\nHost: a.example\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
       "Transfer-Encoding: chunked\r\nProxy-Connection: x\r\n\r\n",
       "POST / HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 192.0.2.1\r\n"
       "X-Forwarded-Proto: http\r\nX-Forwarded-Host: a.example\r\n"
       "Transfer-Encoding: chunked\r\n\r\n"},
      {"every X-Forwarded-For is kept in order; the client's X-Forwarded-Proto/-Host are not",
       "GET / HTTP/1.1\r\nX-Forwarded-For: 10.0.0.1\r\nHost: a.example\r\n"
       "X-Forwarded-Proto: https\r\nX-Forwarded-For: 10.0.0.2\r\nX-Forwarded-Host: evil\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: a.example\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2, 192.0.2.1\r\n"
       "X-Forwarded-Proto: http\r\nX-Forwarded-Host: a.example\r\n\r\n"},
      {"HTTP/1.0 without Host goes upstream as HTTP/1.1 with an empty Host",
       "GET / HTTP/1.0\r\n\r\n",
       "GET / HTTP/1.1\r\nHost: \r\nX-Forwarded-For: 192.0.2.1\r\n"
       "X-Forwarded-Proto: http\r\nX-Forwarded-Host: \r\n\r\n"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      CHECK(upstreamHead(row.request) == row.expected);
    }
  }
  SUBCASE("a WebSocket upgrade is passed on explicitly") {
    std::string out = upstreamHead(
        "GET /ws HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        "Sec-WebSocket-Key: k\r\n\r\n",
        /*websocket=*/true);
    CHECK(out.find("Sec-WebSocket-Key: k\r\n") != std::string::npos);
    CHECK(out.find("Connection: upgrade\r\nUpgrade: websocket\r\n\r\n") != std::string::npos);
  }
}

TEST_CASE("forwarding: splitting the request target") {
  CHECK(splitRequestTarget("/a?b").origin == "/a?b");
  CHECK_FALSE(splitRequestTarget("/a?b").absolute);
  auto split = splitRequestTarget("https://[::1]:8443/p");
  CHECK(split.absolute);
  CHECK(split.authority == "[::1]:8443");
  CHECK(split.origin == "/p");
  split = splitRequestTarget("http://a.example?q=1");
  CHECK(split.authority == "a.example");
  CHECK(split.origin == "?q=1");  // the connection prepends "/"
  CHECK_FALSE(splitRequestTarget("ftp://a.example/").absolute);
}

TEST_CASE("forwarding: the response head the client gets") {
  SUBCASE("HTTP/1.1 client, chunked upstream: chunked, Date and Server added") {
    auto head = clientHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 1);
    CHECK(head.text ==
          "HTTP/1.1 200 OK\r\nDate: Wed, 02 Dec 2026 10:00:00 GMT\r\nServer: portico\r\n"
          "Transfer-Encoding: chunked\r\n\r\n");
    CHECK(head.plan.chunked);
    CHECK(head.plan.keep_alive);
  }
  SUBCASE("HTTP/1.0 client, chunked upstream: never chunked, close-delimited (RFC 9112 §6.1)") {
    auto head = clientHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0);
    CHECK(head.text.find("Transfer-Encoding") == std::string::npos);
    CHECK(head.text.find("Connection: close\r\n") != std::string::npos);
    CHECK_FALSE(head.plan.chunked);
    CHECK_FALSE(head.plan.keep_alive);
  }
  SUBCASE("HTTP/1.0 client, close-delimited upstream: close-delimited") {
    auto head = clientHead("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 0);
    CHECK(head.text.find("Transfer-Encoding") == std::string::npos);
    CHECK_FALSE(head.plan.chunked);
    CHECK_FALSE(head.plan.keep_alive);
  }
  SUBCASE("HTTP/1.1 client, close-delimited upstream: re-chunked, connection kept") {
    auto head = clientHead("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 1);
    CHECK(head.plan.chunked);
    CHECK(head.plan.keep_alive);
  }
  SUBCASE("HTTP/1.0 keep-alive client with a sized body is told keep-alive") {
    auto head = clientHead("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", 0);
    CHECK(head.text.find("Content-Length: 3\r\nConnection: keep-alive\r\n\r\n") !=
          std::string::npos);
    CHECK(head.plan.keep_alive);
  }
  SUBCASE("the backend's Date and Server pass unchanged, none added") {
    auto head = clientHead(
        "HTTP/1.1 204 No Content\r\nServer: app/1.0\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n",
        1);
    CHECK(head.text ==
          "HTTP/1.1 204 No Content\r\nServer: app/1.0\r\n"
          "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n");
  }
  SUBCASE("an empty Server setting adds none") {
    auto head = clientHead("HTTP/1.1 204 No Content\r\n\r\n", 1, "GET", "");
    CHECK(head.text.find("Server") == std::string::npos);
  }
  SUBCASE("hop-by-hop and Connection-listed response headers are dropped") {
    auto head = clientHead(
        "HTTP/1.1 200 OK\r\nConnection: X-Internal\r\nX-Internal: 1\r\nKeep-Alive: t=5\r\n"
        "Content-Length: 0\r\n\r\n",
        1);
    CHECK(head.text.find("X-Internal") == std::string::npos);
    CHECK(head.text.find("Keep-Alive") == std::string::npos);
  }
  SUBCASE("HEAD keeps the backend's Content-Length") {
    auto head = clientHead("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", 1, "HEAD");
    CHECK(head.text.find("Content-Length: 42\r\n") != std::string::npos);
  }
}

TEST_CASE("forwarding: the response fields an HTTP/2 client gets (RFC 9113 §8.2.2)") {
  struct Row {
    const char* name;
    std::string raw;
    std::string method;
    std::string hsts;
    std::vector<ResponseField> fields;
  };
  const std::string date = "Wed, 02 Dec 2026 10:00:00 GMT";
  const std::vector<Row> rows = {
      {"names in lower case; Date, Server and the length added",
       "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-App: 1\r\nContent-Length: 5\r\n\r\n",
       "GET",
       "",
       {{"content-type", "text/plain"},
        {"x-app", "1"},
        {"date", date},
        {"server", "portico"},
        {"content-length", "5"}}},
      {"connection-specific fields never pass",
       "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: t=5\r\nX-Hop: 1\r\n"
       "Transfer-Encoding: chunked\r\nUpgrade: h2c\r\nServer: app\r\nDate: then\r\n\r\n",
       "GET",
       "",
       {{"server", "app"}, {"date", "then"}}},
      {"HSTS added unless the backend sent its own",
       "HTTP/1.1 204 No Content\r\nServer: app\r\nDate: then\r\n\r\n",
       "GET",
       "max-age=60",
       {{"server", "app"}, {"date", "then"}, {"strict-transport-security", "max-age=60"}}},
      {"HEAD keeps the length the backend named",
       "HTTP/1.1 200 OK\r\nServer: app\r\nDate: then\r\nContent-Length: 42\r\n\r\n",
       "HEAD",
       "",
       {{"server", "app"}, {"date", "then"}, {"content-length", "42"}}},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    http::MessageHead head;
    REQUIRE(http::parseResponseHead(row.raw, row.method, head) == http::ParseStatus::Complete);
    ClientResponseContext context;
    context.server = "portico";
    context.date = date;
    context.hsts = row.hsts;
    CHECK(h2ResponseFields(head, row.method, context) == row.fields);
  }
}

TEST_CASE("forwarding: IMF-fixdate (RFC 9110 §5.6.7)") {
  CHECK(formatHttpDate(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(formatHttpDate(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
}
