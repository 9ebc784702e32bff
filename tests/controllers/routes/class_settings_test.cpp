#include <doctest/doctest.h>

#include "controllers/routes/class_settings.h"

using namespace portico;
using namespace portico::controllers::routes;

TEST_CASE(
    "class settings: listeners, TLS policy and the HSTS header value reach the route inputs") {
  crds::IngressClassConfigSpec spec;
  spec.listeners = {"127.0.0.1", 8080, 8443};
  spec.tls = {"TLSv1.3", "ECDHE+AESGCM", ""};
  RouteInputs inputs;
  SUBCASE("HSTS off: no header") {
    applyClassSettings(spec, inputs);
    CHECK(inputs.listeners.hsts.empty());
    CHECK(inputs.listeners.tls_min_version == "TLSv1.3");
    CHECK(inputs.listeners.tls_ciphers == "ECDHE+AESGCM");
    CHECK(inputs.listeners.https_port == 8443);
    CHECK_FALSE(inputs.listeners.http2);
  }
  SUBCASE("HTTP/2 on the HTTPS listener") {
    spec.listeners.http2 = true;
    applyClassSettings(spec, inputs);
    CHECK(inputs.listeners.http2);
  }
  SUBCASE("HSTS with every directive") {
    spec.hsts = {true, 3600, true, true};
    applyClassSettings(spec, inputs);
    CHECK(inputs.listeners.hsts == "max-age=3600; includeSubDomains; preload");
  }
}
