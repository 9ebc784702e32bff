#include <doctest/doctest.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "operator/proxy/proxy_stats.h"
#include "operator/proxy/route_table.h"

using namespace portico::proxy;
using namespace std::chrono_literals;

TEST_CASE("proxy stats: a series is named by the route's Ingress and the backend's Service") {
  ProxyStats stats;
  RequestSeriesPtr shop = stats.series("shop/storefront rule 0 path /", "shop/web:http");
  CHECK(shop->namespace_ == "shop");
  CHECK(shop->ingress == "storefront");
  CHECK(shop->service == "web");
  SUBCASE("another path of the same Ingress to the same Service shares the series") {
    CHECK(stats.series("shop/storefront rule 1 path /api", "shop/web:8080") == shop);
  }
  SUBCASE("a default backend has a Service but no Ingress") {
    RequestSeriesPtr fallback = stats.series("", "shop/fallback:80");
    CHECK(fallback->namespace_ == "shop");
    CHECK(fallback->ingress.empty());
    CHECK(fallback->service == "fallback");
  }
  SUBCASE("requests no route served share the empty series") {
    RequestSeriesPtr none = stats.series("", "");
    CHECK(none->namespace_.empty());
    CHECK(none->ingress.empty());
    CHECK(stats.series("", "") == none);
  }
}

TEST_CASE("proxy stats: the series of an Ingress no longer routed are dropped") {
  std::vector<Backend> backends = {{"shop/web:80", {{"127.0.0.1", 8080}}, ""},
                                   {"shop/fallback:80", {{"127.0.0.1", 8081}}, ""}};
  std::vector<Route> routes = {
      {"shop.example", "/", PathMatch::Prefix, 0, {}, "shop/storefront rule 0 path /"}};
  RouteTable table(backends, routes, 1, {}, -1, {}, {});
  auto live = liveSeriesKeys(table);
  CHECK(live.count(seriesKey("shop/storefront rule 3 path /x", "shop/web:80")));
  CHECK(live.count(seriesKey("", "shop/fallback:80")));
  CHECK(live.count(seriesKey("", "")));

  ProxyStats stats;
  RequestSeriesPtr kept = stats.series("shop/storefront rule 0 path /", "shop/web:80");
  RequestSeriesPtr gone = stats.series("shop/old-promo rule 0 path /", "shop/promo:80");
  gone->record(200, std::chrono::milliseconds(1));
  stats.retainOnly(live);
  std::vector<std::string> listed;
  stats.forEachSeries([&](const RequestSeries& series) { listed.push_back(series.ingress); });
  CHECK(listed == std::vector<std::string>{"storefront"});
  // A request still holding the dropped series counts into it safely.
  gone->record(200, std::chrono::milliseconds(1));
  CHECK(gone->by_class[1] == 2);
  CHECK(stats.series("shop/storefront rule 0 path /", "shop/web:80") == kept);
}

TEST_CASE("proxy stats: status classes, duration buckets (le) and the sum") {
  RequestSeries series;
  series.record(200, 1ms);     // exactly the first bound: le="0.001"
  series.record(204, 1500us);  // le="0.0025"
  series.record(404, 20s);     // beyond the last bound: +Inf
  series.record(503, 3ms);
  series.record(999, 0ms);  // not an HTTP status: "unknown"
  CHECK(series.by_class[1] == 2);
  CHECK(series.by_class[3] == 1);
  CHECK(series.by_class[4] == 1);
  CHECK(series.by_class[5] == 1);
  CHECK(series.buckets[0] == 2);  // 1 ms and 0 ms
  CHECK(series.buckets[1] == 1);
  CHECK(series.buckets[2] == 1);
  CHECK(series.buckets.back() == 1);
  CHECK(series.duration_sum_ns == (1ms + 1500us + 20s + 3ms).count() * 1000);
  series.countUpstreamError(UpstreamError::Timeout);
  CHECK(series.upstream_errors[static_cast<size_t>(UpstreamError::Timeout)] == 1);
  CHECK(upstreamErrorName(UpstreamError::ConnectFailed) == "connect_failed");
}

TEST_CASE("proxy stats: TLS handshake failures are classified from OpenSSL's reason") {
  auto ssl = [](int reason) { return ERR_PACK(ERR_LIB_SSL, 0, reason); };
  CHECK(classifyHandshakeFailure(SSL_ERROR_SYSCALL, 0) == HandshakeFailure::ClientClosed);
  CHECK(classifyHandshakeFailure(SSL_ERROR_SSL, ssl(SSL_R_UNEXPECTED_EOF_WHILE_READING)) ==
        HandshakeFailure::ClientClosed);
  CHECK(classifyHandshakeFailure(SSL_ERROR_SSL, ssl(SSL_R_UNSUPPORTED_PROTOCOL)) ==
        HandshakeFailure::ProtocolVersion);
  CHECK(classifyHandshakeFailure(SSL_ERROR_SSL, ssl(SSL_R_NO_SHARED_CIPHER)) ==
        HandshakeFailure::NoSharedCipher);
  CHECK(classifyHandshakeFailure(SSL_ERROR_SSL, ssl(SSL_R_HTTP_REQUEST)) ==
        HandshakeFailure::PlainHttp);
  CHECK(classifyHandshakeFailure(SSL_ERROR_SSL, ssl(SSL_R_TLSV1_ALERT_UNKNOWN_CA)) ==
        HandshakeFailure::CertificateUnknown);
  CHECK(classifyHandshakeFailure(SSL_ERROR_SSL, ssl(SSL_R_CALLBACK_FAILED)) ==
        HandshakeFailure::NoCertificate);
  CHECK(classifyHandshakeFailure(SSL_ERROR_SSL, ssl(SSL_R_BAD_PACKET_LENGTH)) ==
        HandshakeFailure::Other);
  CHECK(handshakeFailureName(HandshakeFailure::NoCertificate) == "no_certificate");
}

TEST_CASE("proxy stats: connections and handshakes") {
  ProxyStats stats;
  stats.connectionOpened();
  stats.connectionOpened();
  stats.connectionClosed();
  CHECK(stats.activeConnections() == 1);
  stats.countHandshake(false);
  stats.countHandshake(true);
  stats.countHandshakeFailure(HandshakeFailure::PlainHttp);
  CHECK(stats.fullHandshakes() == 1);
  CHECK(stats.resumedHandshakes() == 1);
  CHECK(stats.handshakeFailures(HandshakeFailure::PlainHttp) == 1);
  CHECK(stats.handshakeFailures(HandshakeFailure::Other) == 0);
}
