// RouteTable: the immutable, fully resolved view the data plane serves from — hosts, paths,
// backends with their ready endpoints, TLS certificates by SNI name, ACME HTTP-01 tokens and
// listeners. Built by the control plane (controllers/routes), carried through the shared-memory
// snapshot, and matched on the hot path without allocation.
//
// Matching follows the Ingress v1 specification:
//  - host: case-insensitive, port and trailing dot stripped; the most specific host entry wins
//    (exact name, then a single-label wildcard "*.foo.com", then host-less rules). Requests are
//    matched only against the paths of that one entry (no fall-through to less specific hosts,
//    as ingress-nginx, Envoy and the Gateway API behave); then the default backend; else 404.
//  - path: normalized first (see normalizePath); Exact matches the whole path; Prefix matches
//    element by element ("/foo" matches "/foo", "/foo/", "/foo/bar", never "/foobar"; a trailing
//    slash in the rule is ignored); ImplementationSpecific is Prefix. The longest match wins; at
//    equal length Exact beats Prefix.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "operator/proxy/proxy_settings.h"

namespace portico::proxy {

enum class PathMatch : uint8_t { Exact = 0, Prefix = 1 };

struct Endpoint {
  std::string address;  // IPv4 or IPv6 literal
  uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

struct Backend {
  std::string name;                 // "namespace/service:port", for logs, metrics and explain
  std::vector<Endpoint> endpoints;  // ready endpoints only; empty → 503
  std::string problem;              // why there are no endpoints, when known
  bool operator==(const Backend&) const = default;
};

struct RouteOptions {
  bool ssl_redirect = false;  // 308 to https when the request came over plain HTTP
  bool operator==(const RouteOptions&) const = default;
};

struct Route {
  std::string host;  // normalized; "" any host; "*.foo.com" wildcard
  std::string path;  // normalized; Prefix paths carry no trailing slash except "/"
  PathMatch match = PathMatch::Prefix;
  uint32_t backend = 0;  // index into RouteTable::backends
  RouteOptions options;
  std::string source;  // "namespace/ingress rule R path P", for explain and logs
  bool operator==(const Route&) const = default;
};

struct TlsCertificate {
  std::vector<std::string> names;  // SNI names served: exact or "*.foo.com"
  std::string cert_chain_pem;
  std::string private_key_pem;  // never logged
  std::string source;           // "namespace/secret"
  bool operator==(const TlsCertificate&) const = default;
};

// Where the proxy listens, and the settings that apply to a whole listener rather than a route.
struct Listeners {
  std::string address = "0.0.0.0";
  uint16_t http_port = 80;
  uint16_t https_port = 443;
  std::string tls_min_version = "TLSv1.2";  // or "TLSv1.3"
  std::string tls_ciphers;        // TLS 1.2 cipher list (OpenSSL syntax); "" = the default
  std::string tls_cipher_suites;  // TLS 1.3 suites; "" = OpenSSL's default
  std::string hsts;               // Strict-Transport-Security value for HTTPS responses; "" = none
  bool http2 = false;             // ALPN offers h2 on the HTTPS listener
  ClassProxySettings proxy;       // limits and timeouts, applied live by every worker
  bool operator==(const Listeners&) const = default;
};

// What a lookup found: a route, the default backend, or nothing (404).
struct MatchResult {
  const Route* route = nullptr;
  const Backend* backend = nullptr;  // the route's, or the default backend
  bool isDefaultBackend() const { return route == nullptr && backend != nullptr; }
  bool found() const { return backend != nullptr; }
};

class RouteTable {
public:
  RouteTable() = default;
  RouteTable(std::vector<Backend> backends, std::vector<Route> routes, int32_t default_backend,
             std::vector<TlsCertificate> certificates, int32_t default_certificate,
             std::map<std::string, std::string> acme_tokens, Listeners listeners);

  // Hot path: no allocation for hosts and paths up to the inline buffer size.
  MatchResult match(std::string_view host, std::string_view path) const;

  // The certificate for an SNI name (exact, then wildcard, then the default); -1 if none.
  int32_t certificateFor(std::string_view server_name) const;
  // Whether any certificate covers this host (used for HTTP→HTTPS redirects).
  bool hasCertificateFor(std::string_view host) const;

  // token → key authorization (RFC 8555 §8.3); nullptr if unknown.
  const std::string* acmeKeyAuthorization(std::string_view token) const;

  const std::vector<Backend>& backends() const { return backends_; }
  const std::vector<Route>& routes() const { return routes_; }
  int32_t defaultBackend() const { return default_backend_; }
  const std::vector<TlsCertificate>& certificates() const { return certificates_; }
  int32_t defaultCertificate() const { return default_certificate_; }
  const std::map<std::string, std::string>& acmeTokens() const { return acme_tokens_; }
  const Listeners& listeners() const { return listeners_; }

  bool operator==(const RouteTable& other) const;

private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  template <typename V>
  using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

  struct HostEntry {
    StringMap<uint32_t> exact;   // path → route index
    StringMap<uint32_t> prefix;  // path → route index
  };

  void buildIndex();
  const HostEntry* hostEntryFor(std::string_view normalized_host) const;
  const Route* matchPaths(const HostEntry& entry, std::string_view normalized_path) const;

  std::vector<Backend> backends_;
  std::vector<Route> routes_;
  int32_t default_backend_ = -1;
  std::vector<TlsCertificate> certificates_;
  int32_t default_certificate_ = -1;
  std::map<std::string, std::string> acme_tokens_;
  Listeners listeners_;

  StringMap<HostEntry> exact_hosts_;
  StringMap<HostEntry> wildcard_hosts_;  // key: ".foo.com" for "*.foo.com"
  std::unique_ptr<HostEntry> any_host_;
  StringMap<int32_t> exact_sni_;
  StringMap<int32_t> wildcard_sni_;  // key: ".foo.com"
};

using RouteTableConstSharedPtr = std::shared_ptr<const RouteTable>;

// Host header → lower case, without port and trailing dot. Returns false for a host that is not
// a valid DNS name or IP literal (the caller answers 400). Writes into `out` (no allocation
// when it has capacity).
bool normalizeHost(std::string_view host, std::string& out);

// Request target → the path we match on, normalized one documented way:
//  - the query string and fragment are dropped;
//  - percent-encoded unreserved characters are decoded (RFC 3986 §6.2.2.2); other escapes stay
//    encoded, with upper-case hex ("%2f" → "%2F": an encoded slash never splits a path element);
//  - repeated slashes are merged; "." and ".." segments are removed (RFC 3986 §5.2.4), so
//    "/public/../admin" cannot slip past a rule for "/admin".
// Returns false for a target that is not an origin-form path or holds a bad escape, a NUL, a
// backslash, or a dot segment hidden behind an encoded slash or backslash ("..%2F", "%5C..").
bool normalizePath(std::string_view target, std::string& out);

// A rule's path as stored in the table: normalized like a request path; Prefix rules lose a
// trailing slash (except "/"); an empty path (ImplementationSpecific) is "/". nullopt for a path
// that cannot be normalized (a bad escape, NUL, a query or fragment, not starting with '/'):
// such a rule is refused, never widened to a catch-all.
std::optional<std::string> normalizeRulePath(std::string_view path, PathMatch match);

}  // namespace portico::proxy
