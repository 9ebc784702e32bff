#include "operator/commands/proxy_metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <map>
#include <tuple>

#include "operator/base/collected_metrics.h"
#include "operator/commands/data_plane.h"
#include "operator/proxy/proxy_stats.h"

namespace portico::commands {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr const char* kStatusClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "unknown"};

// One (namespace, ingress, service) summed over the workers.
struct Totals {
  std::array<uint64_t, 6> by_class{};
  std::array<uint64_t, proxy::kRequestDurationBuckets.size() + 1> buckets{};
  uint64_t sum_ns = 0;
  std::array<uint64_t, proxy::kUpstreamErrorKinds> upstream_errors{};
};

using SeriesKey = std::tuple<std::string, std::string, std::string>;

std::vector<ClientMetric::Label> labelsOf(const SeriesKey& key) {
  return {{"ingress", std::get<1>(key)},  // sorted by name, as the registry writes labels
          {"namespace", std::get<0>(key)},
          {"service", std::get<2>(key)}};
}

class ProxyMetrics final : public prometheus::Collectable {
public:
  explicit ProxyMetrics(DataPlane& plane) : plane_(plane) {}

  std::vector<MetricFamily> Collect() const override {
    std::map<SeriesKey, Totals> totals;
    int64_t connections = 0;
    uint64_t full = 0, resumed = 0, accept_pauses = 0;
    std::array<uint64_t, proxy::kHandshakeFailureKinds> failures{};
    std::array<uint64_t, 2> by_protocol{};
    uint64_t h2_connections = 0, h2_streams = 0, resets_received = 0, resets_sent = 0;
    uint64_t goaways_received = 0, goaways_sent = 0;
    int64_t h2_active = 0;
    std::array<uint64_t, proxy::h2::kDefenceCount> defences{};
    bool serving = false;
    plane_.visitStats([&](const proxy::ProxyStats& stats) {
      serving = true;
      connections += stats.activeConnections();
      full += stats.fullHandshakes();
      resumed += stats.resumedHandshakes();
      accept_pauses += stats.acceptPauses();
      by_protocol[0] += stats.requests(proxy::ProxyStats::Protocol::Http1);
      by_protocol[1] += stats.requests(proxy::ProxyStats::Protocol::Http2);
      h2_connections += stats.http2Connections();
      h2_active += stats.http2ActiveStreams();
      const proxy::h2::SessionCounters& h2 = stats.http2();
      h2_streams += h2.streams_opened.load(std::memory_order_relaxed);
      resets_received += h2.resets_received.load(std::memory_order_relaxed);
      resets_sent += h2.resets_sent.load(std::memory_order_relaxed);
      goaways_received += h2.goaways_received.load(std::memory_order_relaxed);
      goaways_sent += h2.goaways_sent.load(std::memory_order_relaxed);
      for (size_t i = 0; i < defences.size(); ++i)
        defences[i] += h2.defence(static_cast<proxy::h2::Defence>(i));
      for (size_t i = 0; i < failures.size(); ++i)
        failures[i] += stats.handshakeFailures(static_cast<proxy::HandshakeFailure>(i));
      stats.forEachSeries([&](const proxy::RequestSeries& series) {
        Totals& t = totals[{series.namespace_, series.ingress, series.service}];
        for (size_t i = 0; i < t.by_class.size(); ++i)
          t.by_class[i] += series.by_class[i].load(std::memory_order_relaxed);
        for (size_t i = 0; i < t.buckets.size(); ++i)
          t.buckets[i] += series.buckets[i].load(std::memory_order_relaxed);
        t.sum_ns += series.duration_sum_ns.load(std::memory_order_relaxed);
        for (size_t i = 0; i < t.upstream_errors.size(); ++i)
          t.upstream_errors[i] += series.upstream_errors[i].load(std::memory_order_relaxed);
      });
    });
    if (!serving) return {};

    MetricFamily requests{"portico_proxy_requests_total",
                          "Requests the proxy answered, by Ingress, Service and status class",
                          MetricType::Counter,
                          {}};
    MetricFamily durations{"portico_proxy_request_duration_seconds",
                           "Time from the request head to the end of the response, by Ingress "
                           "and Service",
                           MetricType::Histogram,
                           {}};
    MetricFamily upstream{"portico_proxy_upstream_errors_total",
                          "Exchanges with an upstream that failed (the client got 502 or 504), "
                          "by reason",
                          MetricType::Counter,
                          {}};
    for (const auto& [key, t] : totals) {
      for (size_t i = 0; i < t.by_class.size(); ++i) {
        if (t.by_class[i] == 0) continue;
        auto labels = labelsOf(key);
        labels.push_back({"status_class", kStatusClasses[i]});
        requests.metric.push_back(
            metrics::counterSample(std::move(labels), static_cast<double>(t.by_class[i])));
      }
      ClientMetric histogram;
      histogram.label = labelsOf(key);
      uint64_t cumulative = 0;
      for (size_t i = 0; i < proxy::kRequestDurationBuckets.size(); ++i) {
        cumulative += t.buckets[i];
        histogram.histogram.bucket.push_back({cumulative, proxy::kRequestDurationBuckets[i]});
      }
      cumulative += t.buckets.back();
      histogram.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
      histogram.histogram.sample_count = cumulative;
      histogram.histogram.sample_sum = static_cast<double>(t.sum_ns) / 1e9;
      durations.metric.push_back(std::move(histogram));
      // Every reason of every Service, at zero too: an alert on rate() needs the series.
      for (size_t i = 0; i < t.upstream_errors.size(); ++i) {
        if (std::get<2>(key).empty()) continue;  // requests no Service was asked to serve
        auto labels = labelsOf(key);
        labels.push_back({"reason", std::string(proxy::upstreamErrorName(
                                        static_cast<proxy::UpstreamError>(i)))});
        upstream.metric.push_back(
            metrics::counterSample(std::move(labels), static_cast<double>(t.upstream_errors[i])));
      }
    }

    MetricFamily active{
        "portico_proxy_active_connections", "Client connections open now", MetricType::Gauge, {}};
    active.metric.push_back(metrics::gaugeSample({}, static_cast<double>(connections)));

    MetricFamily pauses{"portico_proxy_accept_pauses_total",
                        "Times a worker stopped accepting for up to 100 ms because the process "
                        "was out of file descriptors or socket memory",
                        MetricType::Counter,
                        {}};
    pauses.metric.push_back(metrics::counterSample({}, static_cast<double>(accept_pauses)));

    MetricFamily handshakes{"portico_proxy_tls_handshakes_total",
                            "TLS handshakes completed, full or resumed (session ticket)",
                            MetricType::Counter,
                            {}};
    handshakes.metric.push_back(
        metrics::counterSample({{"resumed", "false"}}, static_cast<double>(full)));
    handshakes.metric.push_back(
        metrics::counterSample({{"resumed", "true"}}, static_cast<double>(resumed)));

    MetricFamily failed{"portico_proxy_tls_handshake_failures_total",
                        "TLS handshakes that failed, by reason",
                        MetricType::Counter,
                        {}};
    for (size_t i = 0; i < failures.size(); ++i)
      failed.metric.push_back(metrics::counterSample(
          {{"reason",
            std::string(proxy::handshakeFailureName(static_cast<proxy::HandshakeFailure>(i)))}},
          static_cast<double>(failures[i])));

    MetricFamily rejected{"portico_proxy_snapshot_rejections_total",
                          "Polls of the snapshot file that found it corrupt, torn or of another "
                          "version; the last good table stayed in service",
                          MetricType::Counter,
                          {}};
    rejected.metric.push_back(
        metrics::counterSample({}, static_cast<double>(plane_.rejectedSnapshots())));

    MetricFamily protocols{"portico_proxy_protocol_requests_total",
                           "Requests answered, by the protocol the client spoke (h1, h2)",
                           MetricType::Counter,
                           {}};
    protocols.metric.push_back(
        metrics::counterSample({{"protocol", "h1"}}, static_cast<double>(by_protocol[0])));
    protocols.metric.push_back(
        metrics::counterSample({{"protocol", "h2"}}, static_cast<double>(by_protocol[1])));
    MetricFamily h2_conns{"portico_proxy_http2_connections_total",
                          "Client connections that chose HTTP/2 (ALPN h2)",
                          MetricType::Counter,
                          {}};
    h2_conns.metric.push_back(metrics::counterSample({}, static_cast<double>(h2_connections)));
    MetricFamily streams{"portico_proxy_http2_streams_total",
                         "HTTP/2 streams clients opened",
                         MetricType::Counter,
                         {}};
    streams.metric.push_back(metrics::counterSample({}, static_cast<double>(h2_streams)));
    MetricFamily active_streams{
        "portico_proxy_http2_active_streams", "HTTP/2 streams open now", MetricType::Gauge, {}};
    active_streams.metric.push_back(metrics::gaugeSample({}, static_cast<double>(h2_active)));
    MetricFamily resets{"portico_proxy_http2_resets_total",
                        "RST_STREAM frames, received from clients or sent to them",
                        MetricType::Counter,
                        {}};
    resets.metric.push_back(
        metrics::counterSample({{"direction", "received"}}, static_cast<double>(resets_received)));
    resets.metric.push_back(
        metrics::counterSample({{"direction", "sent"}}, static_cast<double>(resets_sent)));
    MetricFamily goaways{"portico_proxy_http2_goaways_total",
                         "GOAWAY frames, received from clients or sent to them",
                         MetricType::Counter,
                         {}};
    goaways.metric.push_back(
        metrics::counterSample({{"direction", "received"}}, static_cast<double>(goaways_received)));
    goaways.metric.push_back(
        metrics::counterSample({{"direction", "sent"}}, static_cast<double>(goaways_sent)));
    MetricFamily defended{"portico_proxy_http2_defences_total",
                          "HTTP/2 attacks and abuse refused, by defence (rapid reset, "
                          "CONTINUATION flood, oversized header list, control or empty frame "
                          "floods, streams over the concurrency limit)",
                          MetricType::Counter,
                          {}};
    for (size_t i = 0; i < defences.size(); ++i)
      defended.metric.push_back(metrics::counterSample(
          {{"defence", proxy::h2::defenceName(static_cast<proxy::h2::Defence>(i))}},
          static_cast<double>(defences[i])));

    std::vector<MetricFamily> out;
    for (auto* family :
         {&requests, &durations, &upstream, &active, &pauses, &handshakes, &failed, &rejected,
          &protocols, &h2_conns, &streams, &active_streams, &resets, &goaways, &defended})
      if (!family->metric.empty()) out.push_back(std::move(*family));
    return out;
  }

private:
  DataPlane& plane_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> makeProxyMetrics(DataPlane& plane) {
  return std::make_shared<ProxyMetrics>(plane);
}

}  // namespace portico::commands
