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
    bool serving = false;
    plane_.visitStats([&](const proxy::ProxyStats& stats) {
      serving = true;
      connections += stats.activeConnections();
      full += stats.fullHandshakes();
      resumed += stats.resumedHandshakes();
      accept_pauses += stats.acceptPauses();
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

    std::vector<MetricFamily> out;
    for (auto* family :
         {&requests, &durations, &upstream, &active, &pauses, &handshakes, &failed, &rejected})
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
