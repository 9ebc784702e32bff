// The embedded proxy's Prometheus families, read from the workers' statistics at scrape time
// (the workers never touch prometheus-cpp):
//   portico_proxy_requests_total{namespace,ingress,service,status_class}
//   portico_proxy_request_duration_seconds{namespace,ingress,service}   (histogram)
//   portico_proxy_upstream_errors_total{namespace,ingress,service,reason}
//   portico_proxy_active_connections
//   portico_proxy_tls_handshakes_total{resumed}
//   portico_proxy_tls_handshake_failures_total{reason}
#pragma once

#include <memory>

namespace prometheus {
class Collectable;
}

namespace portico::commands {

class DataPlane;

// The collectable reads `plane` while it lives (and prunes the series of Ingresses gone);
// register it with metrics::addCollectable.
std::shared_ptr<prometheus::Collectable> makeProxyMetrics(DataPlane& plane);

}  // namespace portico::commands
