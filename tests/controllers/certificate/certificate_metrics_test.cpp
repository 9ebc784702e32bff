#include <doctest/doctest.h>

#include "controllers/certificate/certificate_metrics.h"
#include "crds/conditions.h"
#include "operator/base/metrics.h"
#include "tests/fakes/metrics_text.h"

using namespace portico;
using portico::testing::sampleValue;

namespace {

std::shared_ptr<const crds::Certificate> makeCertificate(const std::string& name,
                                                         const std::string& ready,
                                                         const std::string& not_after) {
  auto cert = std::make_shared<crds::Certificate>();
  cert->metadata.namespace_ = "shop";
  cert->metadata.name = name;
  cert->spec.issuer = "letsencrypt";
  cert->status.not_after = not_after;
  cert->status.renewal_time = not_after.empty() ? "" : "2026-12-01T00:00:00Z";
  if (!ready.empty())
    cert->status.conditions.push_back({"Ready", ready, "Issued", "", "2026-11-01T00:00:00Z", 1});
  return cert;
}

std::string labels(const std::string& name) {
  return R"(issuer_group="portico.io",issuer_kind="IngressClassConfig",issuer_name="letsencrypt",name=")" +
         name + R"(",namespace="shop")";
}

}  // namespace

TEST_CASE("certificate metrics: cert-manager's series per Certificate, read from the cache") {
  std::vector<std::shared_ptr<const crds::Certificate>> cache = {
      makeCertificate("web-tls", "True", "2027-01-31T00:00:00Z"),
      makeCertificate("api-tls", "False", ""), makeCertificate("new-tls", "", "")};
  auto collectable = controllers::certificate::makeCertificateMetrics([&cache] { return cache; });
  metrics::addCollectable(collectable);
  std::string text = metrics::exposition();
  CHECK(sampleValue(text, "portico_certificate_expiration_timestamp_seconds{" + labels("web-tls") +
                              "}") == 1801353600);  // 2027-01-31T00:00:00Z
  CHECK(sampleValue(text, "portico_certificate_renewal_timestamp_seconds{" + labels("web-tls") +
                              "}") == 1796083200);  // 2026-12-01T00:00:00Z
  CHECK(sampleValue(text, "portico_certificate_expiration_timestamp_seconds{" + labels("api-tls") +
                              "}") == 0);
  CHECK(sampleValue(text, "portico_certificate_ready_status{condition=\"True\"," +
                              labels("web-tls") + "}") == 1);
  CHECK(sampleValue(text, "portico_certificate_ready_status{condition=\"False\"," +
                              labels("web-tls") + "}") == 0);
  CHECK(sampleValue(text, "portico_certificate_ready_status{condition=\"False\"," +
                              labels("api-tls") + "}") == 1);
  CHECK(sampleValue(text, "portico_certificate_ready_status{condition=\"Unknown\"," +
                              labels("new-tls") + "}") == 1);

  SUBCASE("a deleted Certificate's series disappear") {
    cache.pop_back();
    CHECK_FALSE(sampleValue(
        metrics::exposition(),
        "portico_certificate_ready_status{condition=\"Unknown\"," + labels("new-tls") + "}"));
  }
}
