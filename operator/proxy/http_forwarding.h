// The rules a proxy follows when it forwards HTTP/1.1 messages (RFC 9110, RFC 9112), shared by
// the request and the response sides of a Connection.
#pragma once

#include <string>
#include <string_view>

#include "operator/proxy/http_parser.h"

namespace portico::proxy {

// Hop-by-hop headers (RFC 9110 §7.6.1) and the framing headers the proxy sets itself.
bool isHopByHop(std::string_view name);
// Headers named in the message's Connection header are hop-by-hop too.
bool listedInConnection(const http::MessageHead& head, std::string_view name);
// One chunk of a chunked body (RFC 9112 §7.1); nothing for empty data (that is the last chunk).
void appendChunk(std::string& out, std::string_view data);
// The reason phrase of the statuses the proxy answers itself.
const char* reasonPhrase(int status);

}  // namespace portico::proxy
