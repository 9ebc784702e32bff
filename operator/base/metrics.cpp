#include "operator/base/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "operator/base/thread_annotations.h"

namespace portico::metrics {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// Control-plane latencies: a cache read is sub-millisecond, an API call a few ms, a slow
// webhook or an ACME round trip seconds.
const Histogram::BucketBoundaries& latencyBuckets() {
  static const Histogram::BucketBoundaries buckets{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return buckets;
}

// How long a snapshot takes to go live: the debounce alone is 5 ms.
const Histogram::BucketBoundaries& propagationBuckets() {
  static const Histogram::BucketBoundaries buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,   0.25,   0.5,   1,    2.5,   5};
  return buckets;
}

std::string text(std::string_view value) {
  return std::string(value);
}

// The snapshot's age is computed when scraped, from the last publication.
class SnapshotAge final : public prometheus::Collectable {
public:
  void published() {
    last_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                std::memory_order_relaxed);
  }
  std::vector<prometheus::MetricFamily> Collect() const override {
    auto last = last_.load(std::memory_order_relaxed);
    if (last == 0) return {};
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    prometheus::MetricFamily family{"portico_snapshot_age_seconds",
                                    "Seconds since the route snapshot was last published",
                                    prometheus::MetricType::Gauge,
                                    {}};
    prometheus::ClientMetric sample;
    sample.gauge.value =
        std::chrono::duration<double>(std::chrono::steady_clock::duration(now - last)).count();
    family.metric.push_back(sample);
    return {family};
  }

private:
  std::atomic<std::chrono::steady_clock::rep> last_{0};
};

struct Families {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();

  prometheus::Family<prometheus::Counter>& reconciles =
      BuildCounter()
          .Name("portico_controller_reconcile_total")
          .Help("Reconciles per controller and result (success, error, requeue)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& reconcile_errors =
      BuildCounter()
          .Name("portico_controller_reconcile_errors_total")
          .Help("Reconciles that returned an error, per controller")
          .Register(*registry);
  prometheus::Family<Histogram>& reconcile_seconds =
      BuildHistogram()
          .Name("portico_controller_reconcile_duration_seconds")
          .Help("Time spent in one reconcile, per controller")
          .Register(*registry);

  prometheus::Family<prometheus::Counter>& queue_adds =
      BuildCounter()
          .Name("portico_workqueue_adds_total")
          .Help("Keys added to the work queue (a key already queued is counted once)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& queue_retries =
      BuildCounter()
          .Name("portico_workqueue_retries_total")
          .Help("Keys queued again after a failed reconcile (rate limited)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& queue_depth =
      BuildGauge()
          .Name("portico_workqueue_depth")
          .Help("Keys waiting in the work queue for a worker")
          .Register(*registry);
  prometheus::Family<Histogram>& queue_wait =
      BuildHistogram()
          .Name("portico_workqueue_queue_duration_seconds")
          .Help("Time a key waits in the work queue before a worker takes it")
          .Register(*registry);

  prometheus::Family<prometheus::Counter>& kube_requests =
      BuildCounter()
          .Name("portico_kube_api_requests_total")
          .Help("Kubernetes API requests by verb, resource and HTTP code (0: no response)")
          .Register(*registry);
  prometheus::Family<Histogram>& kube_seconds =
      BuildHistogram()
          .Name("portico_kube_api_request_duration_seconds")
          .Help(
              "Kubernetes API request latency by verb and resource (watches: until the "
              "stream ends)")
          .Register(*registry);

  prometheus::Family<prometheus::Counter>& acme_requests =
      BuildCounter()
          .Name("portico_acme_client_requests_total")
          .Help("ACME requests by RFC 8555 resource, method and HTTP status (0: no response)")
          .Register(*registry);
  prometheus::Family<Histogram>& acme_seconds =
      BuildHistogram()
          .Name("portico_acme_client_request_duration_seconds")
          .Help("ACME request latency by RFC 8555 resource")
          .Register(*registry);

  prometheus::Family<Histogram>& publish_seconds =
      BuildHistogram()
          .Name("portico_snapshot_publish_duration_seconds")
          .Help("Time to encode, write and swap in one route snapshot")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& snapshot_bytes =
      BuildGauge()
          .Name("portico_snapshot_size_bytes")
          .Help("Size of the route snapshot last published")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& snapshot_generation =
      BuildGauge()
          .Name("portico_snapshot_generation")
          .Help("Generation of the route snapshot last published")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& snapshot_timestamp =
      BuildGauge()
          .Name("portico_snapshot_last_publish_timestamp_seconds")
          .Help("Unix time of the last route snapshot publication")
          .Register(*registry);
  prometheus::Family<Histogram>& propagation_seconds =
      BuildHistogram()
          .Name("portico_snapshot_propagation_seconds")
          .Help("Kubernetes change observed to the proxy serving the snapshot that has it")
          .Register(*registry);

  std::shared_ptr<SnapshotAge> snapshot_age = std::make_shared<SnapshotAge>();

  Mutex collectables_mutex;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables{snapshot_age};
};

Families& families() {
  static Families* instance = new Families();  // never destroyed: workers may record at exit
  return *instance;
}

}  // namespace

std::shared_ptr<prometheus::Registry> registry() {
  return families().registry;
}

void addCollectable(const std::shared_ptr<prometheus::Collectable>& collectable) {
  Families& f = families();
  MutexLock lock(f.collectables_mutex);
  f.collectables.push_back(collectable);
}

std::string exposition() {
  Families& f = families();
  std::vector<prometheus::MetricFamily> all = f.registry->Collect();
  {
    MutexLock lock(f.collectables_mutex);
    std::erase_if(f.collectables, [](const auto& weak) { return weak.expired(); });
    for (const auto& weak : f.collectables) {
      if (auto collectable = weak.lock()) {
        auto more = collectable->Collect();
        all.insert(all.end(), std::make_move_iterator(more.begin()),
                   std::make_move_iterator(more.end()));
      }
    }
  }
  return prometheus::TextSerializer().Serialize(all);
}

void initController(std::string_view controller) {
  Families& f = families();
  for (const char* result : {"success", "error", "requeue"})
    f.reconciles.Add({{"controller", text(controller)}, {"result", result}});
  f.reconcile_errors.Add({{"controller", text(controller)}});
  f.reconcile_seconds.Add({{"controller", text(controller)}}, latencyBuckets());
}

QueueSeries queueSeries(std::string_view queue) {
  Families& f = families();
  QueueSeries series;
  series.adds_ = &f.queue_adds.Add({{"name", text(queue)}});
  series.retries_ = &f.queue_retries.Add({{"name", text(queue)}});
  series.depth_ = &f.queue_depth.Add({{"name", text(queue)}});
  series.wait_ = &f.queue_wait.Add({{"name", text(queue)}}, latencyBuckets());
  return series;
}

void QueueSeries::countAdd() const {
  if (adds_) adds_->Increment();
}

void QueueSeries::countRetry() const {
  if (retries_) retries_->Increment();
}

void QueueSeries::setDepth(size_t depth) const {
  if (depth_) depth_->Set(static_cast<double>(depth));
}

void QueueSeries::recordWait(double seconds) const {
  if (wait_) wait_->Observe(seconds);
}

void recordReconcile(std::string_view controller, std::string_view result, double seconds) {
  Families& f = families();
  f.reconciles.Add({{"controller", text(controller)}, {"result", text(result)}}).Increment();
  if (result == "error") f.reconcile_errors.Add({{"controller", text(controller)}}).Increment();
  f.reconcile_seconds.Add({{"controller", text(controller)}}, latencyBuckets()).Observe(seconds);
}

void recordKubeRequest(std::string_view verb, std::string_view resource, int code, double seconds) {
  Families& f = families();
  f.kube_requests
      .Add({{"verb", text(verb)}, {"resource", text(resource)}, {"code", std::to_string(code)}})
      .Increment();
  f.kube_seconds.Add({{"verb", text(verb)}, {"resource", text(resource)}}, latencyBuckets())
      .Observe(seconds);
}

void recordAcmeRequest(std::string_view endpoint, std::string_view method, int status,
                       double seconds) {
  Families& f = families();
  f.acme_requests
      .Add({{"endpoint", text(endpoint)},
            {"method", text(method)},
            {"status", std::to_string(status)}})
      .Increment();
  f.acme_seconds.Add({{"endpoint", text(endpoint)}}, latencyBuckets()).Observe(seconds);
}

void recordSnapshotPublish(double seconds, uint64_t bytes, uint64_t generation) {
  Families& f = families();
  f.publish_seconds.Add({}, propagationBuckets()).Observe(seconds);
  f.snapshot_bytes.Add({}).Set(static_cast<double>(bytes));
  f.snapshot_generation.Add({}).Set(static_cast<double>(generation));
  f.snapshot_timestamp.Add({}).SetToCurrentTime();
  f.snapshot_age->published();
}

void recordSnapshotPropagation(double seconds) {
  families().propagation_seconds.Add({}, propagationBuckets()).Observe(seconds);
}

std::string_view statusClass(int status) {
  static constexpr std::string_view classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  if (status < 100 || status > 599) return "unknown";
  return classes[status / 100 - 1];
}

}  // namespace portico::metrics
