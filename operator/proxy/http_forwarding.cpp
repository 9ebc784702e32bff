#include "operator/proxy/http_forwarding.h"

#include <cstdio>

namespace portico::proxy {

// Hop-by-hop headers (RFC 9110 §7.6.1) and the framing headers we set ourselves.
bool isHopByHop(std::string_view name) {
  return http::equalsIgnoreCase(name, "connection") || http::equalsIgnoreCase(name, "keep-alive") ||
         http::equalsIgnoreCase(name, "proxy-connection") || http::equalsIgnoreCase(name, "te") ||
         http::equalsIgnoreCase(name, "trailer") ||
         http::equalsIgnoreCase(name, "transfer-encoding") ||
         http::equalsIgnoreCase(name, "upgrade") || http::equalsIgnoreCase(name, "content-length");
}

// Headers named in Connection are hop-by-hop too.
bool listedInConnection(const http::MessageHead& head, std::string_view name) {
  return http::listContains(head.header("connection"), name);
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

}  // namespace portico::proxy
