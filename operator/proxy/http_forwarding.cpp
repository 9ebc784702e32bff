#include "operator/proxy/http_forwarding.h"

#include <algorithm>
#include <cctype>

#include <cstdio>
#include <ctime>

namespace portico::proxy {

namespace {

bool isFramingOrHost(std::string_view name) {
  return http::equalsIgnoreCase(name, "host") || http::equalsIgnoreCase(name, "content-length") ||
         http::equalsIgnoreCase(name, "transfer-encoding");
}

// The headers of `head` that travel end to end (not hop-by-hop, not named in Connection), minus
// those `skip` names; the proxy writes those itself.
template <typename Skip>
void appendEndToEndHeaders(std::string& out, const http::MessageHead& head, Skip&& skip) {
  for (size_t i = 0; i < head.header_count; ++i) {
    const auto& h = head.headers[i];
    if (isHopByHop(h.name) || listedInConnection(head, h.name) || skip(h.name)) continue;
    out.append(h.name);
    out += ": ";
    out.append(h.value);
    out += "\r\n";
  }
}

void appendStatusLine(std::string& out, const http::MessageHead& response) {
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out.append(response.reason);
  out += "\r\n";
}

}  // namespace

// Hop-by-hop headers (RFC 9110 §7.6.1) and the framing headers we set ourselves.
bool isHopByHop(std::string_view name) {
  return http::equalsIgnoreCase(name, "connection") || http::equalsIgnoreCase(name, "keep-alive") ||
         http::equalsIgnoreCase(name, "proxy-connection") || http::equalsIgnoreCase(name, "te") ||
         http::equalsIgnoreCase(name, "trailer") ||
         http::equalsIgnoreCase(name, "transfer-encoding") ||
         http::equalsIgnoreCase(name, "upgrade") || http::equalsIgnoreCase(name, "content-length");
}

bool listedInConnection(const http::MessageHead& head, std::string_view name) {
  return !isFramingOrHost(name) && http::listContains(head.header("connection"), name);
}

void appendChunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  char size[20];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, static_cast<size_t>(n));
  out.append(data);
  out.append("\r\n");
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
  }
  return "Error";
}

SplitTarget splitRequestTarget(std::string_view target) {
  SplitTarget out;
  out.origin = target;
  size_t scheme_end = 0;
  if (target.size() >= 7 && http::equalsIgnoreCase(target.substr(0, 7), "http://"))
    scheme_end = 7;
  else if (target.size() >= 8 && http::equalsIgnoreCase(target.substr(0, 8), "https://"))
    scheme_end = 8;
  if (scheme_end == 0) return out;
  out.absolute = true;
  std::string_view rest = target.substr(scheme_end);
  auto end = rest.find_first_of("/?#");
  out.authority = rest.substr(0, end);
  if (end == std::string_view::npos) {
    out.origin = "/";
  } else {
    // "http://a.example?x" has an empty path: the caller prepends the "/" the origin form needs
    // (RFC 9112 §3.2.1).
    out.origin = rest.substr(end);
  }
  return out;
}

void appendUpstreamRequestHead(std::string& out, const http::MessageHead& request,
                               const UpstreamRequestContext& context) {
  out.append(request.method);
  out += ' ';
  out.append(context.target);
  out += " HTTP/1.1\r\nHost: ";
  out.append(context.authority);
  out += "\r\n";
  appendEndToEndHeaders(out, request, [](std::string_view name) {
    return http::equalsIgnoreCase(name, "host") ||
           http::equalsIgnoreCase(name, "x-forwarded-for") ||
           http::equalsIgnoreCase(name, "x-forwarded-proto") ||
           http::equalsIgnoreCase(name, "x-forwarded-host");
  });
  out += "X-Forwarded-For: ";  // every X-Forwarded-For the client sent, in order, then its IP
  for (size_t i = 0; i < request.header_count; ++i) {
    const auto& h = request.headers[i];
    if (!http::equalsIgnoreCase(h.name, "x-forwarded-for") || h.value.empty()) continue;
    out.append(h.value);
    out += ", ";
  }
  out.append(context.client_ip);
  out += "\r\nX-Forwarded-Proto: ";
  out += context.tls ? "https" : "http";
  out += "\r\nX-Forwarded-Host: ";
  out.append(context.authority);
  out += "\r\n";
  if (context.websocket) out += "Connection: upgrade\r\nUpgrade: websocket\r\n";
  if (request.framing == http::BodyFraming::ContentLength)
    out += "Content-Length: " + std::to_string(request.content_length) + "\r\n";
  else if (request.framing == http::BodyFraming::Chunked)
    out += "Transfer-Encoding: chunked\r\n";
  out += "\r\n";
}

ClientResponsePlan appendClientResponseHead(std::string& out, const http::MessageHead& response,
                                            std::string_view request_method,
                                            const ClientResponseContext& context) {
  ClientResponsePlan plan;
  plan.keep_alive = context.keep_alive;
  const bool http10 = context.client_version_minor == 0;
  appendStatusLine(out, response);
  appendEndToEndHeaders(out, response, [](std::string_view) { return false; });
  if (!context.date.empty() && response.header("date").empty()) {
    out += "Date: ";
    out.append(context.date);
    out += "\r\n";
  }
  if (!context.server.empty() && response.header("server").empty()) {
    out += "Server: ";
    out.append(context.server);
    out += "\r\n";
  }
  // An upstream's own HSTS header wins.
  if (!context.hsts.empty() && response.header("strict-transport-security").empty()) {
    out += "Strict-Transport-Security: ";
    out.append(context.hsts);
    out += "\r\n";
  }
  switch (response.framing) {
    case http::BodyFraming::ContentLength:
      out += "Content-Length: " + std::to_string(response.content_length) + "\r\n";
      break;
    case http::BodyFraming::Chunked:
    case http::BodyFraming::UntilClose:
      // RFC 9112 §6.1: never chunked to an HTTP/1.0 recipient; the body ends with the connection.
      if (http10)
        plan.keep_alive = false;
      else
        plan.chunked = true;
      if (plan.chunked) out += "Transfer-Encoding: chunked\r\n";
      break;
    case http::BodyFraming::None:
      if (request_method == "HEAD" && !response.header("content-length").empty())
        out += "Content-Length: " + std::string(response.header("content-length")) + "\r\n";
      break;
  }
  if (!plan.keep_alive)
    out += "Connection: close\r\n";
  else if (http10)
    out += "Connection: keep-alive\r\n";  // RFC 9112 §9.3: a 1.0 client closes unless told
  out += "\r\n";
  return plan;
}

std::vector<ResponseField> h2ResponseFields(const http::MessageHead& response,
                                            std::string_view request_method,
                                            const ClientResponseContext& context) {
  std::vector<ResponseField> fields;
  fields.reserve(response.header_count + 4);
  auto add = [&](std::string_view name, std::string_view value) {
    ResponseField& field = fields.emplace_back();
    field.name.resize(name.size());
    std::transform(name.begin(), name.end(), field.name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    field.value.assign(value);
  };
  for (size_t i = 0; i < response.header_count; ++i) {
    const auto& h = response.headers[i];
    if (isHopByHop(h.name) || listedInConnection(response, h.name)) continue;
    add(h.name, h.value);
  }
  if (!context.date.empty() && response.header("date").empty()) add("date", context.date);
  if (!context.server.empty() && response.header("server").empty()) add("server", context.server);
  if (!context.hsts.empty() && response.header("strict-transport-security").empty())
    add("strict-transport-security", context.hsts);
  if (response.framing == http::BodyFraming::ContentLength)
    add("content-length", std::to_string(response.content_length));
  else if (request_method == "HEAD" && !response.header("content-length").empty())
    add("content-length", response.header("content-length"));
  return fields;
}

void appendInterimResponseHead(std::string& out, const http::MessageHead& response) {
  appendStatusLine(out, response);
  appendEndToEndHeaders(out, response, [](std::string_view) { return false; });
  out += "\r\n";
}

std::string formatHttpDate(long long unix_seconds) {
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[40];
  int n = std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                        kDays[tm.tm_wday], tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace portico::proxy
