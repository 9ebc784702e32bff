// The rules a proxy follows when it forwards HTTP/1.1 messages (RFC 9110, RFC 9112), shared by
// the request and the response sides of a Connection. The head rewrites are pure functions over
// a parsed head and what the connection knows, so they are table-tested on their own (as Envoy
// tests its header utilities) and HTTP/2 can use them too.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "operator/proxy/http_parser.h"

namespace portico::proxy {

// Hop-by-hop headers (RFC 9110 §7.6.1) and the framing headers the proxy sets itself.
bool isHopByHop(std::string_view name);
// Headers named in the message's Connection header are hop-by-hop too — except Host and the
// framing headers, which a client must not be able to strip that way (the proxy writes those).
bool listedInConnection(const http::MessageHead& head, std::string_view name);
// One chunk of a chunked body (RFC 9112 §7.1); nothing for empty data (that is the last chunk).
void appendChunk(std::string& out, std::string_view data);
// The reason phrase of the statuses the proxy answers itself.
const char* reasonPhrase(int status);

// A request target in absolute form ("http://host:port/path?q", RFC 9112 §3.2.2) split into its
// authority and its origin form; any other target is returned as is with no authority.
struct SplitTarget {
  std::string_view authority;  // empty unless the target was absolute-form
  std::string_view origin;     // "/path?query" ("/" when the URI had no path)
  bool absolute = false;
};
SplitTarget splitRequestTarget(std::string_view target);

// What the head sent upstream depends on besides the client's head.
struct UpstreamRequestContext {
  std::string_view target;     // origin form
  std::string_view authority;  // the Host the upstream gets (absolute-form authority, else Host)
  std::string_view client_ip;
  bool tls = false;        // X-Forwarded-Proto
  bool websocket = false;  // the WebSocket upgrade is passed on
};
// The request head as the upstream gets it: request line in origin form, HTTP/1.1; one Host
// (RFC 9112 §3.2.2: an absolute-form URI's authority replaces the Host header); hop-by-hop
// headers dropped; X-Forwarded-For appended to, X-Forwarded-Proto/-Host replaced; the framing
// (Content-Length or chunked) written from the parsed framing, never copied.
void appendUpstreamRequestHead(std::string& out, const http::MessageHead& request,
                               const UpstreamRequestContext& context);

// What the head sent to the client depends on besides the upstream's response head.
struct ClientResponseContext {
  int client_version_minor = 1;  // HTTP/1.0 clients never get chunked (RFC 9112 §6.1)
  bool keep_alive = true;        // the client connection may carry another request
  std::string_view hsts;         // Strict-Transport-Security to add when absent ("" none)
  std::string_view server;       // Server to add when the response has none ("" none)
  std::string_view date;         // IMF-fixdate to add when the response has no Date
};
struct ClientResponsePlan {
  bool chunked = false;     // the body goes to the client chunk-framed by the proxy
  bool keep_alive = false;  // the client connection stays open after this response
};
// The final (non-1xx) response head as the client gets it, and how its body is framed: the
// upstream's chunked or close-delimited body is chunked to an HTTP/1.1 client and
// close-delimited to an HTTP/1.0 one.
ClientResponsePlan appendClientResponseHead(std::string& out, const http::MessageHead& response,
                                            std::string_view request_method,
                                            const ClientResponseContext& context);
// The fields of an HTTP/1.1 upstream's final response as an HTTP/2 client gets them (RFC 9113
// §8.2.2): end-to-end fields only, names in lower case; Date, Server and HSTS added as for
// HTTP/1.1; Content-Length when the upstream framed the body with one (or, for HEAD, named it).
struct ResponseField {
  std::string name;
  std::string value;
  bool operator==(const ResponseField&) const = default;
};
std::vector<ResponseField> h2ResponseFields(const http::MessageHead& response,
                                            std::string_view request_method,
                                            const ClientResponseContext& context);

// An interim (1xx) response head: the status line and the end-to-end headers.
void appendInterimResponseHead(std::string& out, const http::MessageHead& response);

// RFC 9110 §5.6.7 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for a time_t.
std::string formatHttpDate(long long unix_seconds);

}  // namespace portico::proxy
