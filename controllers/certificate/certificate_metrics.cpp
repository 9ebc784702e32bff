#include "controllers/certificate/certificate_metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "crds/conditions.h"
#include "operator/base/collected_metrics.h"
#include "operator/base/time_format.h"

namespace portico::controllers::certificate {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::vector<ClientMetric::Label> labelsOf(const crds::Certificate& cert) {
  // cert-manager's issuer labels; our issuer is an IngressClassConfig ("" = the served class's).
  return {{"name", cert.metadata.name},
          {"namespace", cert.metadata.namespace_},
          {"issuer_name", cert.spec.issuer},
          {"issuer_kind", "IngressClassConfig"},
          {"issuer_group", "portico.io"}};
}

// Seconds since the epoch of an RFC 3339 status field; 0 when unknown (as cert-manager).
double timestamp(const std::string& rfc3339) {
  auto parsed = parseRfc3339(rfc3339);
  if (!parsed) return 0;
  return std::chrono::duration<double>(parsed->time_since_epoch()).count();
}

class CertificateMetrics final : public prometheus::Collectable {
public:
  explicit CertificateMetrics(CertificateLister list) : list_(std::move(list)) {}

  std::vector<MetricFamily> Collect() const override {
    MetricFamily expiration{"portico_certificate_expiration_timestamp_seconds",
                            "When the Certificate's current certificate expires (notAfter), "
                            "Unix seconds; 0 before the first issuance",
                            MetricType::Gauge,
                            {}};
    MetricFamily renewal{"portico_certificate_renewal_timestamp_seconds",
                         "When the Certificate will be renewed, Unix seconds; 0 when unknown",
                         MetricType::Gauge,
                         {}};
    MetricFamily ready{"portico_certificate_ready_status",
                       "The Certificate's Ready condition: 1 on the current status",
                       MetricType::Gauge,
                       {}};
    for (const auto& cert : list_()) {
      expiration.metric.push_back(
          metrics::gaugeSample(labelsOf(*cert), timestamp(cert->status.not_after)));
      renewal.metric.push_back(
          metrics::gaugeSample(labelsOf(*cert), timestamp(cert->status.renewal_time)));
      const crds::Condition* condition = crds::findCondition(cert->status.conditions, "Ready");
      const std::string current = condition ? condition->status : "Unknown";
      for (const char* status : {"True", "False", "Unknown"}) {
        auto labels = labelsOf(*cert);
        labels.push_back({"condition", status});
        ready.metric.push_back(metrics::gaugeSample(std::move(labels), current == status ? 1 : 0));
      }
    }
    if (expiration.metric.empty()) return {};
    return {std::move(expiration), std::move(renewal), std::move(ready)};
  }

private:
  CertificateLister list_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> makeCertificateMetrics(CertificateLister list) {
  return std::make_shared<CertificateMetrics>(std::move(list));
}

}  // namespace portico::controllers::certificate
