#include <doctest/doctest.h>

#include "operator/proxy/route_table.h"

using namespace portico::proxy;

namespace {

struct Rule {
  std::string host;
  std::string path;
  PathMatch match;
};

// One backend per rule, named after the rule, so a match tells which rule won.
RouteTable tableOf(const std::vector<Rule>& rules, bool with_default = false) {
  std::vector<Backend> backends;
  std::vector<Route> routes;
  for (const auto& rule : rules) {
    std::string name =
        rule.host + (rule.match == PathMatch::Exact ? " exact " : " prefix ") + rule.path;
    backends.push_back({name, {{"127.0.0.1", 8080}}, ""});
    Route route;
    route.host = rule.host;
    route.path = normalizeRulePath(rule.path, rule.match).value();
    route.match = rule.match;
    route.backend = static_cast<uint32_t>(backends.size() - 1);
    routes.push_back(route);
  }
  int32_t default_backend = -1;
  if (with_default) {
    backends.push_back({"default", {}, ""});
    default_backend = static_cast<int32_t>(backends.size() - 1);
  }
  return RouteTable(std::move(backends), std::move(routes), default_backend, {}, -1, {}, {});
}

std::string served(const RouteTable& table, const std::string& host, const std::string& target) {
  std::string h, p;
  REQUIRE(normalizeHost(host, h));
  REQUIRE(normalizePath(target, p));
  auto result = table.match(h, p);
  return result.found() ? result.backend->name : "404";
}

}  // namespace

// Every row of the path-matching table in the Kubernetes Ingress documentation
// (concepts/services-networking/ingress, "Examples").
TEST_CASE("route table: the Kubernetes documentation's path matching table") {
  struct Row {
    const char* name;
    std::vector<Rule> rules;
    const char* request;
    const char* expected;  // the winning rule's backend, or "404" (the default backend)
  };
  const auto P = PathMatch::Prefix;
  const auto E = PathMatch::Exact;
  const Row rows[] = {
      {"Prefix / matches all paths", {{"", "/", P}}, "/anything/at/all", " prefix /"},
      {"Exact /foo matches /foo", {{"", "/foo", E}}, "/foo", " exact /foo"},
      {"Exact /foo does not match /bar", {{"", "/foo", E}}, "/bar", "404"},
      {"Exact /foo does not match /foo/", {{"", "/foo", E}}, "/foo/", "404"},
      {"Exact /foo/ does not match /foo", {{"", "/foo/", E}}, "/foo", "404"},
      {"Prefix /foo matches /foo", {{"", "/foo", P}}, "/foo", " prefix /foo"},
      {"Prefix /foo matches /foo/", {{"", "/foo", P}}, "/foo/", " prefix /foo"},
      {"Prefix /foo/ matches /foo", {{"", "/foo/", P}}, "/foo", " prefix /foo/"},
      {"Prefix /foo/ matches /foo/", {{"", "/foo/", P}}, "/foo/", " prefix /foo/"},
      {"Prefix /aaa/bb does not match /aaa/bbb", {{"", "/aaa/bb", P}}, "/aaa/bbb", "404"},
      {"Prefix /aaa/bbb matches /aaa/bbb", {{"", "/aaa/bbb", P}}, "/aaa/bbb", " prefix /aaa/bbb"},
      {"Prefix /aaa/bbb/ ignores the trailing slash",
       {{"", "/aaa/bbb/", P}},
       "/aaa/bbb",
       " prefix /aaa/bbb/"},
      {"Prefix /aaa/bbb matches the trailing slash",
       {{"", "/aaa/bbb", P}},
       "/aaa/bbb/",
       " prefix /aaa/bbb"},
      {"Prefix /aaa/bbb matches a subpath",
       {{"", "/aaa/bbb", P}},
       "/aaa/bbb/ccc",
       " prefix /aaa/bbb"},
      {"Prefix /aaa/bbb is not a string prefix", {{"", "/aaa/bbb", P}}, "/aaa/bbbxyz", "404"},
      {"Prefix /, /aaa: /aaa/ccc matches /aaa",
       {{"", "/", P}, {"", "/aaa", P}},
       "/aaa/ccc",
       " prefix /aaa"},
      {"Prefix /, /aaa, /aaa/bbb: /aaa/bbb matches /aaa/bbb",
       {{"", "/", P}, {"", "/aaa", P}, {"", "/aaa/bbb", P}},
       "/aaa/bbb",
       " prefix /aaa/bbb"},
      {"Prefix /, /aaa, /aaa/bbb: /ccc matches /",
       {{"", "/", P}, {"", "/aaa", P}, {"", "/aaa/bbb", P}},
       "/ccc",
       " prefix /"},
      {"Prefix /aaa: /ccc falls to the default backend", {{"", "/aaa", P}}, "/ccc", "404"},
      {"Mixed /foo Prefix and Exact: Exact wins",
       {{"", "/foo", P}, {"", "/foo", E}},
       "/foo",
       " exact /foo"},
      // The PathType field's own example in the Ingress v1 API reference.
      {"Prefix /foo/bar matches /foo/bar/baz",
       {{"", "/foo/bar", P}},
       "/foo/bar/baz",
       " prefix /foo/bar"},
      {"Prefix /foo/bar does not match /foo/barbaz", {{"", "/foo/bar", P}}, "/foo/barbaz", "404"},
      // "Matching is case sensitive" (Exact and Prefix), as the conformance suite checks.
      {"Exact /foo does not match /FOO", {{"", "/foo", E}}, "/FOO", "404"},
      {"Prefix /foo does not match /FOO", {{"", "/foo", P}}, "/FOO", "404"},
      {"Prefix /aaa does not match /aaaccc",
       {{"", "/aaa/bbb", P}, {"", "/aaa", P}},
       "/aaaccc",
       "404"},
      {"Prefix /aaa/bbb/ and Exact /foo/: /aaa/bbb/ matches the prefix",
       {{"", "/aaa/bbb/", P}, {"", "/foo/", E}},
       "/aaa/bbb/",
       " prefix /aaa/bbb/"},
      {"Exact /foo/ matches /foo/", {{"", "/foo/", E}}, "/foo/", " exact /foo/"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.name) {
      CHECK(served(tableOf(row.rules), "example.com", row.request) == row.expected);
    }
  }
}

TEST_CASE("route table: the longest match wins; Exact beats Prefix at equal length only") {
  auto table = tableOf({{"", "/a", PathMatch::Prefix},
                        {"", "/a/b", PathMatch::Exact},
                        {"", "/a/b/c", PathMatch::Prefix}});
  CHECK(served(table, "h", "/a/b") == " exact /a/b");
  CHECK(served(table, "h", "/a/b/") == " prefix /a");
  CHECK(served(table, "h", "/a/b/c/d") == " prefix /a/b/c");
  CHECK(served(table, "h", "/a/x") == " prefix /a");
}

TEST_CASE("route table: hosts — exact, then one-label wildcard, then host-less; no fall-through") {
  auto table = tableOf({{"foo.com", "/", PathMatch::Prefix},
                        {"*.foo.com", "/", PathMatch::Prefix},
                        {"api.foo.com", "/v1", PathMatch::Prefix},
                        {"", "/", PathMatch::Prefix}},
                       /*with_default=*/true);
  CHECK(served(table, "foo.com", "/x") == "foo.com prefix /");
  CHECK(served(table, "bar.foo.com", "/x") == "*.foo.com prefix /");
  CHECK(served(table, "baz.bar.foo.com", "/x") == " prefix /");  // one label only
  CHECK(served(table, "other.org", "/x") == " prefix /");
  CHECK(served(table, "api.foo.com", "/v1/users") == "api.foo.com prefix /v1");
  // api.foo.com has rules of its own: a path they do not cover goes to the default backend,
  // not to the wildcard or host-less rules.
  CHECK(served(table, "api.foo.com", "/v2") == "default");
}

TEST_CASE("route table: the Host header is case-insensitive and loses its port") {
  auto table = tableOf({{"foo.com", "/", PathMatch::Prefix}});
  CHECK(served(table, "FOO.com:8443", "/") == "foo.com prefix /");
  CHECK(served(table, "foo.com.", "/") == "foo.com prefix /");
  std::string out;
  CHECK(normalizeHost("[::1]:80", out));
  CHECK(out == "[::1]");
  CHECK_FALSE(normalizeHost("foo.com:http", out));
  CHECK_FALSE(normalizeHost("foo com", out));
  CHECK_FALSE(normalizeHost("[::1", out));
  // RFC 9110 §7.2 / RFC 3986 §3.2.2-3: a port is digits; an IP literal is hex, ':' and '.'.
  CHECK_FALSE(normalizeHost("[::1]:junk", out));
  CHECK_FALSE(normalizeHost("[::1]x", out));
  CHECK_FALSE(normalizeHost("[a.example]", out));
  CHECK_FALSE(normalizeHost("::1", out));
  CHECK_FALSE(normalizeHost("a.example:80:80", out));
  CHECK_FALSE(normalizeHost("a.example:123456", out));
  CHECK(normalizeHost("[::FFFF:192.0.2.1]:8443", out));
  CHECK(out == "[::ffff:192.0.2.1]");
  CHECK(normalizeHost("a.example:", out));  // an empty port is allowed (RFC 3986 §3.2.3)
  CHECK(out == "a.example");
}

TEST_CASE("route table: path normalization, documented in route_table.h") {
  struct Row {
    const char* target;
    const char* normalized;  // nullptr: rejected (400)
  };
  const Row rows[] = {
      {"/a/b?x=1#frag", "/a/b"},
      {"/a%2Db", "/a-b"},
      {"/a%2fb", "/a%2Fb"},
      {"//a///b", "/a/b"},
      {"/a/./b", "/a/b"},
      {"/a/b/../c", "/a/c"},
      {"/../../etc", "/etc"},
      {"/public/../admin", "/admin"},
      {"/a/..", "/"},
      {"/.well-known/acme-challenge/x", "/.well-known/acme-challenge/x"},
      {"/%", nullptr},
      {"/%zz", nullptr},
      {"/a%00", nullptr},
      {"relative", nullptr},
      {"", nullptr},
      {"/%41%7e", "/A~"},
      // A backend that decodes %2F / %5C before normalizing must not find a dot segment.
      {"/public/..%2fadmin", nullptr},
      {"/public/%2E%2E%2Fadmin", nullptr},
      {"/public%2F..%2Fadmin", nullptr},
      {"/public/..%5Cadmin", nullptr},
      {"/a\\..\\admin", nullptr},
      {"/a%2Fb", "/a%2Fb"},
      {"/a%2F.b", "/a%2F.b"},
      {"/a/..b%2Fc", "/a/..b%2Fc"},
  };
  for (const auto& row : rows) {
    SUBCASE(row.target) {
      std::string out;
      bool ok = normalizePath(row.target, out);
      if (!row.normalized) {
        CHECK_FALSE(ok);
      } else {
        REQUIRE(ok);
        CHECK(out == row.normalized);
      }
    }
  }
  // Encoded traversal cannot bypass a rule either: %2E is unreserved, so it decodes first.
  auto table = tableOf({{"", "/admin", PathMatch::Prefix}, {"", "/", PathMatch::Exact}});
  CHECK(served(table, "h", "/public/%2E%2E/admin/x") == " prefix /admin");
}

TEST_CASE("route table: SNI certificates — exact, wildcard, then the default") {
  std::vector<TlsCertificate> certs = {{{"foo.com"}, "A", "a", "ns/a"},
                                       {{"*.foo.com"}, "B", "b", "ns/b"},
                                       {{"default.local"}, "D", "d", "ns/d"}};
  RouteTable table({}, {}, -1, certs, 2, {{"tok", "tok.thumb"}}, {});
  CHECK(table.certificateFor("foo.com") == 0);
  CHECK(table.certificateFor("x.foo.com") == 1);
  CHECK(table.certificateFor("y.x.foo.com") == 2);
  CHECK(table.certificateFor("") == 2);
  CHECK(table.hasCertificateFor("x.foo.com"));
  CHECK_FALSE(table.hasCertificateFor("bar.com"));
  REQUIRE(table.acmeKeyAuthorization("tok"));
  CHECK(*table.acmeKeyAuthorization("tok") == "tok.thumb");
  CHECK_FALSE(table.acmeKeyAuthorization("other"));
}
