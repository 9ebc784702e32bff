#include "operator/proxy/http_parser.h"

#include <strings.h>

#include <algorithm>

namespace portico::proxy::http {

namespace {

// RFC 9110 §5.6.2 tchar.
constexpr bool isTokenChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '!' ||
         c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' || c == '+' ||
         c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~';
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return isTokenChar(static_cast<unsigned char>(c));
  });
}

bool iequals(std::string_view a, std::string_view b) {
  return equalsIgnoreCase(a, b);
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(token) for each element of a comma-separated list, trimmed; empty elements skipped.
template <typename F>
void forEachListElement(std::string_view value, F&& f) {
  while (!value.empty()) {
    auto comma = value.find(',');
    std::string_view element = trimOws(value.substr(0, comma));
    if (!element.empty()) f(element);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

ParseStatus fail(MessageHead& out, int status, const char* why) {
  out.error_status = status;
  out.error = why;
  return ParseStatus::Error;
}

bool parseVersion(std::string_view text, int& minor) {
  if (text.size() != 8 || text.substr(0, 7) != "HTTP/1.") return false;
  if (text[7] != '0' && text[7] != '1') return false;
  minor = text[7] - '0';
  return true;
}

bool parseDecimal(std::string_view text, uint64_t& out) {
  if (text.empty() || text.size() > 18) return false;  // < 10^18: no overflow
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  out = v;
  return true;
}

// Splits the head into lines, checks header syntax and fills headers; the start line is returned.
ParseStatus parseLines(std::string_view buffer, MessageHead& out, const Limits& limits,
                       bool is_request, std::string_view& start_line) {
  auto end = buffer.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (buffer.size() > limits.max_head_bytes)
      return fail(out, is_request ? 431 : 502, "message head too large");
    // A bare CR or LF, or a NUL, before the end is already fatal: answer at once instead of
    // waiting for a head that can never be valid (RFC 9112 §2.2).
    for (size_t i = 0; i < buffer.size(); ++i) {
      char c = buffer[i];
      if ((c == '\n' && (i == 0 || buffer[i - 1] != '\r')) ||
          (c == '\r' && i + 1 < buffer.size() && buffer[i + 1] != '\n') || c == '\0')
        return fail(out, is_request ? 400 : 502, "bare CR, LF or NUL in the head");
    }
    return ParseStatus::Incomplete;
  }
  if (end + 4 > limits.max_head_bytes)
    return fail(out, is_request ? 431 : 502, "message head too large");
  out.head_size = end + 4;
  std::string_view head = buffer.substr(0, end + 2);  // every line keeps its CRLF
  size_t pos = 0;
  bool first = true;
  out.header_count = 0;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    for (char c : line)
      if (c == '\r' || c == '\n' || c == '\0')
        return fail(out, is_request ? 400 : 502, "bare CR, LF or NUL in the head");
    if (first) {
      start_line = line;
      first = false;
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t')
      return fail(out, is_request ? 400 : 502, "obsolete line folding");  // RFC 9112 §5.2
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      return fail(out, is_request ? 400 : 502, "header line without a colon");
    std::string_view name = line.substr(0, colon);
    if (!isToken(name))
      return fail(out, is_request ? 400 : 502,
                  "invalid header name (or whitespace before the colon)");
    std::string_view value = trimOws(line.substr(colon + 1));
    for (char c : value) {
      unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && u != '\t') || u == 0x7f)
        return fail(out, is_request ? 400 : 502, "control character in a header value");
    }
    if (out.header_count >= limits.max_headers || out.header_count >= kMaxHeaders)
      return fail(out, is_request ? 431 : 502, "too many header fields");
    out.headers[out.header_count++] = {name, value};
  }
  return ParseStatus::Complete;
}

// Host, Content-Length, Transfer-Encoding, Connection, Expect → the derived fields.
ParseStatus deriveFraming(MessageHead& out, bool is_request) {
  const int bad = is_request ? 400 : 502;
  bool have_length = false, have_te = false, chunked_last = false, other_coding = false;
  int hosts = 0;
  bool conn_close = false, conn_keep_alive = false;
  for (size_t i = 0; i < out.header_count; ++i) {
    const Header& h = out.headers[i];
    if (iequals(h.name, "content-length")) {
      bool ok = true;
      forEachListElement(h.value, [&](std::string_view v) {
        uint64_t n = 0;
        if (!parseDecimal(v, n) || (have_length && n != out.content_length)) ok = false;
        out.content_length = n;
        have_length = true;
      });
      if (!ok || !have_length) return fail(out, bad, "invalid or conflicting Content-Length");
    } else if (iequals(h.name, "transfer-encoding")) {
      have_te = true;
      forEachListElement(h.value, [&](std::string_view coding) {
        if (chunked_last) other_coding = true;  // anything after chunked is malformed
        if (iequals(coding, "chunked"))
          chunked_last = true;
        else
          other_coding = true;
      });
    } else if (iequals(h.name, "host")) {
      ++hosts;
      out.host = h.value;
    } else if (iequals(h.name, "connection")) {
      forEachListElement(h.value, [&](std::string_view token) {
        if (iequals(token, "close"))
          conn_close = true;
        else if (iequals(token, "keep-alive"))
          conn_keep_alive = true;
        else if (iequals(token, "upgrade"))
          out.upgrade = true;
      });
    } else if (is_request && iequals(h.name, "expect")) {
      if (iequals(h.value, "100-continue")) out.expect_continue = true;
    }
  }
  out.keep_alive = out.version_minor == 1 ? !conn_close : (conn_keep_alive && !conn_close);
  if (have_te && have_length)
    return fail(out, bad, "both Transfer-Encoding and Content-Length");  // §6.3
  if (is_request) {
    if (hosts > 1) return fail(out, 400, "more than one Host header");
    if (hosts == 0 && out.version_minor == 1)
      return fail(out, 400, "HTTP/1.1 request without Host");
    if (have_te && out.version_minor == 0)
      return fail(out, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (have_te && (other_coding || !chunked_last))
      return fail(out, 501, "unsupported transfer coding");
    if (have_te)
      out.framing = BodyFraming::Chunked;
    else if (have_length && out.content_length > 0)
      out.framing = BodyFraming::ContentLength;
    else
      out.framing = BodyFraming::None;
    return ParseStatus::Complete;
  }
  if (have_te && chunked_last && !other_coding)
    out.framing = BodyFraming::Chunked;
  else if (have_te) {
    out.framing = BodyFraming::UntilClose;
    out.keep_alive = false;
  } else if (have_length) {
    out.framing = out.content_length > 0 ? BodyFraming::ContentLength : BodyFraming::None;
  } else {
    out.framing = BodyFraming::UntilClose;
    out.keep_alive = false;
  }
  return ParseStatus::Complete;
}

void reset(MessageHead& out) {
  out.method = out.target = out.reason = out.host = {};
  out.status = 0;
  out.version_minor = 1;
  out.header_count = 0;
  out.head_size = 0;
  out.framing = BodyFraming::None;
  out.content_length = 0;
  out.keep_alive = true;
  out.expect_continue = out.upgrade = false;
  out.error_status = 0;
  out.error = nullptr;
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool listContains(std::string_view value, std::string_view token) {
  bool found = false;
  forEachListElement(value,
                     [&](std::string_view element) { found = found || iequals(element, token); });
  return found;
}

std::string_view MessageHead::header(std::string_view name) const {
  for (size_t i = 0; i < header_count; ++i)
    if (iequals(headers[i].name, name)) return headers[i].value;
  return {};
}

ParseStatus parseRequestHead(std::string_view buffer, MessageHead& out, const Limits& limits) {
  reset(out);
  // Before the head is complete, reject what can never become a request (RFC 9112 §2.2 allows
  // ignoring leading empty lines; we do not, a client that sends them is broken).
  std::string_view start;
  ParseStatus status = parseLines(buffer, out, limits, /*is_request=*/true, start);
  if (status != ParseStatus::Complete) return status;
  auto sp1 = start.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : start.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || start.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(out, 400, "malformed request line");
  out.method = start.substr(0, sp1);
  out.target = start.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = start.substr(sp2 + 1);
  if (!isToken(out.method)) return fail(out, 400, "invalid method");
  if (out.target.empty()) return fail(out, 400, "empty request target");
  for (char c : out.target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return fail(out, 400, "invalid request target");
  if (!parseVersion(version, out.version_minor))
    return fail(out, version.substr(0, 5) == "HTTP/" ? 505 : 400, "unsupported HTTP version");
  return deriveFraming(out, /*is_request=*/true);
}

ParseStatus parseResponseHead(std::string_view buffer, std::string_view request_method,
                              MessageHead& out, const Limits& limits) {
  reset(out);
  std::string_view start;
  ParseStatus status = parseLines(buffer, out, limits, /*is_request=*/false, start);
  if (status != ParseStatus::Complete) return status;
  if (start.size() < 12 || !parseVersion(start.substr(0, 8), out.version_minor) || start[8] != ' ')
    return fail(out, 502, "malformed status line");
  std::string_view code = start.substr(9, 3);
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return fail(out, 502, "malformed status code");
  out.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  if (out.status < 100) return fail(out, 502, "malformed status code");
  if (start.size() > 12) {
    if (start[12] != ' ') return fail(out, 502, "malformed status line");
    out.reason = start.substr(13);
  }
  if (deriveFraming(out, /*is_request=*/false) == ParseStatus::Error) return ParseStatus::Error;
  // RFC 9112 §6.3: these responses have no body whatever their headers say.
  if (request_method == "HEAD" || out.status / 100 == 1 || out.status == 204 || out.status == 304 ||
      (request_method == "CONNECT" && out.status / 100 == 2))
    out.framing = BodyFraming::None;
  return ParseStatus::Complete;
}

bool ChunkedDecoder::step(char c) {
  auto hex = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  switch (state_) {
    case State::Size: {
      int v = hex(c);
      if (v >= 0) {
        if (++size_digits_ > 15) return error_ = "chunk size too large", false;
        remaining_ = remaining_ * 16 + static_cast<uint64_t>(v);
        return true;
      }
      if (size_digits_ == 0) return error_ = "chunk size expected", false;
      if (c == '\r') return state_ = State::SizeLf, true;
      if (c == ';' || c == ' ' || c == '\t')
        return state_ = State::SizeExt, true;  // extensions: ignored
      return error_ = "invalid chunk size", false;
    }
    case State::SizeExt:
      if (c == '\r') return state_ = State::SizeLf, true;
      if (c == '\n' || c == '\0') return error_ = "bare LF in a chunk extension", false;
      if (++trailer_bytes_ > 4096) return error_ = "chunk extension too long", false;
      return true;
    case State::SizeLf:
      if (c != '\n') return error_ = "CR without LF after a chunk size", false;
      size_digits_ = 0;
      trailer_bytes_ = 0;
      state_ = remaining_ == 0 ? State::Trailer : State::Data;
      return true;
    case State::DataCr:
      if (c != '\r') return error_ = "chunk data longer than its size", false;
      return state_ = State::DataLf, true;
    case State::DataLf:
      if (c != '\n') return error_ = "CR without LF after chunk data", false;
      return state_ = State::Size, true;
    case State::Trailer:  // at the start of a trailer line, or the final CRLF
      if (c == '\r') return state_ = State::TrailerLf, true;
      state_ = State::TrailerLine;
      [[fallthrough]];
    case State::TrailerLine:
      if (c == '\r') return state_ = State::TrailerLineLf, true;
      if (c == '\n' || c == '\0') return error_ = "bare LF in a trailer", false;
      if (++trailer_bytes_ > 16384) return error_ = "trailers too large", false;
      return true;
    case State::TrailerLineLf:
      if (c != '\n') return error_ = "CR without LF in a trailer", false;
      return state_ = State::Trailer, true;
    case State::TrailerLf:
      if (c != '\n') return error_ = "CR without LF at the end of a chunked body", false;
      return state_ = State::Done, true;
    case State::Data:
    case State::Done: return true;
  }
  return false;
}

}  // namespace portico::proxy::http
