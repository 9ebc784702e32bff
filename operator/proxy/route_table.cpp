#include "operator/proxy/route_table.h"

namespace portico::proxy {

namespace {

bool isUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Removes "." and ".." segments from a path that starts with '/' and has no repeated slashes.
void removeDotSegments(std::string& path) {
  std::string out;
  out.reserve(path.size());
  size_t i = 0;
  while (i < path.size()) {
    size_t end = path.find('/', i + 1);
    if (end == std::string::npos) end = path.size();
    std::string_view segment(path.data() + i + 1, end - i - 1);  // without the leading '/'
    bool last = end == path.size();
    if (segment == ".") {
      if (last) out += '/';
    } else if (segment == "..") {
      auto slash = out.rfind('/');
      out.resize(slash == std::string::npos ? 0 : slash);
      if (last) out += '/';
    } else {
      out += '/';
      out.append(segment);
    }
    i = end;
  }
  if (out.empty()) out.push_back('/');  // push_back: GCC 12 warns falsely on = "/"
  path.swap(out);
}

// Whether splitting the path at encoded slashes and backslashes too yields a "." or ".."
// element.
bool hidesDotSegment(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = start;
    while (end < path.size() && path[end] != '/' &&
           !(path[end] == '%' && path.substr(end, 3) == "%2F") &&
           !(path[end] == '%' && path.substr(end, 3) == "%5C"))
      ++end;
    std::string_view element = path.substr(start, end - start);
    if (element == "." || element == "..") return true;
    if (end >= path.size()) return false;
    start = end + (path[end] == '/' ? 1 : 3);
  }
  return false;
}

}  // namespace

bool normalizeHost(std::string_view host, std::string& out) {
  out.clear();
  if (host.empty()) return true;
  // RFC 9110 §7.2: Host = uri-host [ ":" port ], port = *DIGIT (RFC 3986 §3.2.3).
  auto validPort = [](std::string_view port) {
    if (port.size() > 5) return false;
    for (char c : port)
      if (c < '0' || c > '9') return false;
    return true;
  };
  if (host.front() == '[') {  // IP-literal (RFC 3986 §3.2.2), maybe with a port
    auto close = host.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !validPort(rest.substr(1)))) return false;
    for (char c : host.substr(1, close - 1)) {
      bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                c == ':' || c == '.';
      if (!ok) return false;
    }
    host = host.substr(0, close + 1);
    out.reserve(host.size());
    for (char c : host) out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return true;
  }
  if (auto colon = host.find(':'); colon != std::string_view::npos) {
    if (!validPort(host.substr(colon + 1))) return false;
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  out.reserve(host.size());
  for (char c : host) {
    unsigned char u = static_cast<unsigned char>(c);
    bool ok = (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' || u == '.' ||
              u == '_' || (u >= 'A' && u <= 'Z') || u == '*';
    if (!ok) return false;
    out += static_cast<char>(u >= 'A' && u <= 'Z' ? u + 32 : u);
  }
  return true;
}

bool normalizePath(std::string_view target, std::string& out) {
  out.clear();
  auto cut = target.find_first_of("?#");
  if (cut != std::string_view::npos) target = target.substr(0, cut);
  if (target.empty() || target.front() != '/') return false;
  out.reserve(target.size());
  bool encoded_separator = false;  // a %2F or %5C kept encoded: checked once at the end
  for (size_t i = 0; i < target.size(); ++i) {
    char c = target[i];
    if (c == '%') {
      if (i + 2 >= target.size()) return false;
      int hi = hexValue(target[i + 1]), lo = hexValue(target[i + 2]);
      if (hi < 0 || lo < 0) return false;
      unsigned char decoded = static_cast<unsigned char>(hi * 16 + lo);
      if (decoded == 0) return false;
      if (isUnreserved(decoded)) {
        out += static_cast<char>(decoded);
      } else {
        static const char* kHex = "0123456789ABCDEF";
        encoded_separator = encoded_separator || decoded == '/' || decoded == '\\';
        out += '%';
        out += kHex[decoded >> 4];
        out += kHex[decoded & 15];
      }
      i += 2;
      continue;
    }
    if (c == '\0') return false;
    if (c == '\\') return false;  // not a URI character (RFC 3986 §3.3); "\" is "/" to some servers
    if (c == '/' && !out.empty() && out.back() == '/') continue;  // merge slashes
    out += c;
  }
  // Dot segments are rare: only pay for their removal when one may be there.
  if (out.find("/.") != std::string::npos) removeDotSegments(out);
  // An encoded slash or backslash stays inside its element here, but a backend that decodes it
  // before normalizing would see a dot segment ("/public/..%2Fadmin" → "/admin"): refused.
  return !encoded_separator || !hidesDotSegment(out);
}

std::optional<std::string> normalizeRulePath(std::string_view path, PathMatch match) {
  std::string out = "/";
  if (!path.empty()) {
    if (path.find_first_of("?#") != std::string_view::npos) return std::nullopt;
    if (!normalizePath(path, out)) return std::nullopt;
  }
  if (match == PathMatch::Prefix)
    while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

RouteTable::RouteTable(std::vector<Backend> backends, std::vector<Route> routes,
                       int32_t default_backend, std::vector<TlsCertificate> certificates,
                       int32_t default_certificate, std::map<std::string, std::string> acme_tokens,
                       Listeners listeners)
    : backends_(std::move(backends)),
      routes_(std::move(routes)),
      default_backend_(default_backend),
      certificates_(std::move(certificates)),
      default_certificate_(default_certificate),
      acme_tokens_(std::move(acme_tokens)),
      listeners_(std::move(listeners)) {
  buildIndex();
}

void RouteTable::buildIndex() {
  for (uint32_t i = 0; i < routes_.size(); ++i) {
    const Route& route = routes_[i];
    HostEntry* entry;
    if (route.host.empty()) {
      if (!any_host_) any_host_ = std::make_unique<HostEntry>();
      entry = any_host_.get();
    } else if (route.host.size() > 2 && route.host[0] == '*' && route.host[1] == '.') {
      entry = &wildcard_hosts_[route.host.substr(1)];
    } else {
      entry = &exact_hosts_[route.host];
    }
    auto& paths = route.match == PathMatch::Exact ? entry->exact : entry->prefix;
    paths.emplace(route.path, i);  // the first claim wins; the compiler already ordered them
  }
  for (int32_t i = 0; i < static_cast<int32_t>(certificates_.size()); ++i) {
    for (const auto& name : certificates_[i].names) {
      if (name.size() > 2 && name[0] == '*' && name[1] == '.')
        wildcard_sni_.emplace(name.substr(1), i);
      else
        exact_sni_.emplace(name, i);
    }
  }
}

const RouteTable::HostEntry* RouteTable::hostEntryFor(std::string_view host) const {
  if (auto it = exact_hosts_.find(host); it != exact_hosts_.end()) return &it->second;
  // "*.foo.com" covers exactly one extra label: "bar.foo.com", not "baz.bar.foo.com" or "foo.com".
  if (auto dot = host.find('.'); dot != std::string_view::npos && dot > 0) {
    if (auto it = wildcard_hosts_.find(host.substr(dot)); it != wildcard_hosts_.end())
      return &it->second;
  }
  return any_host_.get();
}

const Route* RouteTable::matchPaths(const HostEntry& entry, std::string_view path) const {
  if (!entry.exact.empty()) {
    if (auto it = entry.exact.find(path); it != entry.exact.end()) return &routes_[it->second];
  }
  if (entry.prefix.empty()) return nullptr;
  // Element-wise prefix match, longest first: "/a/b/c" tries "/a/b/c", "/a/b", "/a", "/".
  std::string_view candidate = path;
  while (candidate.size() > 1 && candidate.back() == '/') candidate.remove_suffix(1);
  while (true) {
    if (auto it = entry.prefix.find(candidate); it != entry.prefix.end())
      return &routes_[it->second];
    if (candidate.size() <= 1) return nullptr;
    auto slash = candidate.rfind('/');
    candidate = candidate.substr(0, slash == 0 ? 1 : slash);
  }
}

MatchResult RouteTable::match(std::string_view host, std::string_view path) const {
  MatchResult result;
  if (const HostEntry* entry = hostEntryFor(host)) {
    if (const Route* route = matchPaths(*entry, path)) {
      result.route = route;
      result.backend = &backends_[route->backend];
      return result;
    }
  }
  if (default_backend_ >= 0) result.backend = &backends_[default_backend_];
  return result;
}

int32_t RouteTable::certificateFor(std::string_view name) const {
  if (auto it = exact_sni_.find(name); it != exact_sni_.end()) return it->second;
  if (auto dot = name.find('.'); dot != std::string_view::npos && dot > 0) {
    if (auto it = wildcard_sni_.find(name.substr(dot)); it != wildcard_sni_.end())
      return it->second;
  }
  return default_certificate_;
}

bool RouteTable::hasCertificateFor(std::string_view host) const {
  if (exact_sni_.count(host)) return true;
  auto dot = host.find('.');
  return dot != std::string_view::npos && dot > 0 && wildcard_sni_.count(host.substr(dot));
}

const std::string* RouteTable::acmeKeyAuthorization(std::string_view token) const {
  auto it = acme_tokens_.find(std::string(token));
  return it == acme_tokens_.end() ? nullptr : &it->second;
}

bool RouteTable::operator==(const RouteTable& other) const {
  return backends_ == other.backends_ && routes_ == other.routes_ &&
         default_backend_ == other.default_backend_ && certificates_ == other.certificates_ &&
         default_certificate_ == other.default_certificate_ && acme_tokens_ == other.acme_tokens_ &&
         listeners_ == other.listeners_;
}

}  // namespace portico::proxy
