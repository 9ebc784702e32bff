// Per-Certificate series, read from the informer's cache at scrape time (a deleted Certificate
// simply stops appearing). Named after cert-manager's, with `portico_` for `certmanager_`, so
// alerts written for cert-manager map over by renaming:
//   portico_certificate_expiration_timestamp_seconds{name,namespace,issuer_name,issuer_kind,issuer_group}
//   portico_certificate_renewal_timestamp_seconds{...same}
//   portico_certificate_ready_status{...same, condition="True|False|Unknown"}  (1 on the current)
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "crds/certificate.h"

namespace prometheus {
class Collectable;
}

namespace portico::controllers::certificate {

using CertificateLister = std::function<std::vector<std::shared_ptr<const crds::Certificate>>()>;

std::shared_ptr<prometheus::Collectable> makeCertificateMetrics(CertificateLister list);

}  // namespace portico::controllers::certificate
