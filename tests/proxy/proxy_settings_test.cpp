#include <doctest/doctest.h>

#include "operator/proxy/proxy_settings.h"

using namespace portico::proxy;
using namespace std::chrono_literals;

TEST_CASE("proxy settings: the class's settings from the snapshot, but not over explicit flags") {
  ProxySettings base;
  base.max_body_bytes = 100;
  base.redirect_https_port = 8443;
  ClassProxySettings from_class{true, 7, 11, 2, 13, 32768, 1 << 20, true, "edge/1"};

  SUBCASE("a snapshot without class settings leaves the proxy's own") {
    ClassProxySettings none;
    CHECK(effectiveSettings(base, {}, none).max_body_bytes == 100);
  }
  SUBCASE("the class's settings apply; what they do not cover is kept") {
    ProxySettings out = effectiveSettings(base, {}, from_class);
    CHECK(out.header_timeout == 7s);
    CHECK(out.idle_timeout == 11s);
    CHECK(out.connect_timeout == 2s);
    CHECK(out.upstream_timeout == 13s);
    CHECK(out.body_timeout == 13s);
    CHECK(out.max_head_bytes == 32768);
    CHECK(out.max_body_bytes == 1 << 20);
    CHECK(out.access_log);
    CHECK(out.server_header == "edge/1");
    CHECK(out.redirect_https_port == 8443);
    CHECK(out.buffer_high_water == base.buffer_high_water);
  }
  SUBCASE("a flag given on the command line wins") {
    ExplicitSettings given;
    given.max_body_bytes = true;
    given.idle_timeout = true;
    ProxySettings out = effectiveSettings(base, given, from_class);
    CHECK(out.max_body_bytes == 100);
    CHECK(out.idle_timeout == base.idle_timeout);
    CHECK(out.header_timeout == 7s);
  }
}
