#include <doctest/doctest.h>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "operator/base/metrics.h"
#include "tests/fakes/metrics_text.h"

using namespace portico;
using portico::testing::sampleValue;

TEST_CASE("metrics: recorded requests appear with their labels, counted and timed") {
  metrics::recordKubeRequest("get", "widgets", 200, 0.004);
  metrics::recordKubeRequest("get", "widgets", 200, 0.2);
  metrics::recordKubeRequest("get", "widgets", 0, 30);  // no response at all
  std::string text = metrics::exposition();
  CHECK(sampleValue(
            text, R"(portico_kube_api_requests_total{code="200",resource="widgets",verb="get"})") ==
        2);
  CHECK(sampleValue(text,
                    R"(portico_kube_api_requests_total{code="0",resource="widgets",verb="get"})") ==
        1);
  CHECK(sampleValue(
            text,
            R"(portico_kube_api_request_duration_seconds_count{resource="widgets",verb="get"})") ==
        3);
  CHECK(
      sampleValue(
          text,
          R"(portico_kube_api_request_duration_seconds_bucket{resource="widgets",verb="get",le="0.005"})") ==
      1);
  CHECK(
      sampleValue(
          text,
          R"(portico_kube_api_request_duration_seconds_bucket{resource="widgets",verb="get",le="0.25"})") ==
      2);
  CHECK(text.find("# TYPE portico_kube_api_requests_total counter") != std::string::npos);
}

TEST_CASE("metrics: reconcile results, and errors counted apart") {
  metrics::recordReconcile("widgets-test", "success", 0.001);
  metrics::recordReconcile("widgets-test", "error", 0.001);
  metrics::recordReconcile("widgets-test", "requeue", 0.001);
  std::string text = metrics::exposition();
  for (const char* result : {"success", "error", "requeue"})
    CHECK(
        sampleValue(
            text, std::string(
                      R"(portico_controller_reconcile_total{controller="widgets-test",result=")") +
                      result + "\"}") == 1);
  CHECK(sampleValue(
            text, R"(portico_controller_reconcile_errors_total{controller="widgets-test"})") == 1);
}

TEST_CASE("metrics: a snapshot publication sets size, generation and age") {
  metrics::recordSnapshotPublish(0.0001, 4096, 7);
  metrics::recordSnapshotPropagation(0.012);
  std::string text = metrics::exposition();
  CHECK(sampleValue(text, "portico_snapshot_size_bytes") == 4096);
  CHECK(sampleValue(text, "portico_snapshot_generation") == 7);
  auto age = sampleValue(text, "portico_snapshot_age_seconds");
  REQUIRE(age);
  CHECK(*age >= 0);
  CHECK(*age < 60);
  CHECK(sampleValue(text, R"(portico_snapshot_propagation_seconds_bucket{le="0.025"})") >= 1);
}

namespace {
struct OneGauge final : prometheus::Collectable {
  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily family{
        "portico_test_collected", "test", prometheus::MetricType::Gauge, {}};
    prometheus::ClientMetric sample;
    sample.gauge.value = 42;
    family.metric.push_back(sample);
    return {family};
  }
};
}  // namespace

TEST_CASE("metrics: a collectable is read at scrape time while it lives, then dropped") {
  auto collectable = std::make_shared<OneGauge>();
  metrics::addCollectable(collectable);
  CHECK(sampleValue(metrics::exposition(), "portico_test_collected") == 42);
  collectable.reset();
  CHECK_FALSE(sampleValue(metrics::exposition(), "portico_test_collected"));
}

TEST_CASE("metrics: status classes") {
  CHECK(metrics::statusClass(101) == "1xx");
  CHECK(metrics::statusClass(204) == "2xx");
  CHECK(metrics::statusClass(308) == "3xx");
  CHECK(metrics::statusClass(499) == "4xx");
  CHECK(metrics::statusClass(504) == "5xx");
  CHECK(metrics::statusClass(0) == "unknown");
  CHECK(metrics::statusClass(600) == "unknown");
}
