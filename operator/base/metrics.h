// Metrics: the process's Prometheus registry and the named families every layer records into.
// Callers pass plain label values, so prometheus-cpp stays out of their headers; families that
// are cheaper to read at scrape time than to update (the proxy's per-worker counters, one
// series per Certificate) register a prometheus::Collectable instead.
//
// Names follow Prometheus conventions (base units, `_total` on counters) and, where users have
// alerts already, the names they know: controller-runtime's reconcile and work-queue series,
// client-go's API request series, cert-manager's certificate series — all with `portico_`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Collectable;
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace portico::metrics {

// The registry behind /metrics (one per process, like client-go's legacyregistry).
std::shared_ptr<prometheus::Registry> registry();

// Families collected at scrape time. Held weakly: a collectable that is gone is skipped.
void addCollectable(const std::shared_ptr<prometheus::Collectable>& collectable);

// Prometheus text exposition (format 0.0.4) of the registry and every live collectable.
std::string exposition();

// Controllers (controller-runtime's names). `result`: success | error | requeue.
// Creates the controller's series at zero, so rate() and alerts see them before the first error.
void initController(std::string_view controller);
void recordReconcile(std::string_view controller, std::string_view result, double seconds);

// Work queues (client-go's workqueue names): one queue's series, resolved once so that a push
// or a take costs no label lookup. A default-constructed QueueSeries records nothing.
class QueueSeries {
public:
  void countAdd() const;
  void countRetry() const;
  void setDepth(size_t depth) const;
  void recordWait(double seconds) const;

private:
  friend QueueSeries queueSeries(std::string_view queue);
  prometheus::Counter* adds_ = nullptr;
  prometheus::Counter* retries_ = nullptr;
  prometheus::Gauge* depth_ = nullptr;
  prometheus::Histogram* wait_ = nullptr;
};
QueueSeries queueSeries(std::string_view queue);  // creates the queue's series at zero

// Kubernetes API requests. `verb`: get | list | watch | create | update | patch | delete;
// `code`: the HTTP status, or 0 when no response arrived (connection failure, timeout).
void recordKubeRequest(std::string_view verb, std::string_view resource, int code, double seconds);

// ACME requests by RFC 8555 resource (directory, newNonce, newAccount, newOrder, order,
// authorization, challenge, finalize, certificate, renewalInfo); `status` 0 = no response.
void recordAcmeRequest(std::string_view endpoint, std::string_view method, int status,
                       double seconds);

// The route snapshot: one publication (compile excluded: encode + write + swap).
void recordSnapshotPublish(double seconds, uint64_t bytes, uint64_t generation);
// Kubernetes change observed → the proxy serving the snapshot that contains it.
void recordSnapshotPropagation(double seconds);

// "2xx" for 204; "unknown" outside 100..599.
std::string_view statusClass(int status);

}  // namespace portico::metrics
