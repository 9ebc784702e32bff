#include "controllers/ingress/certificates.h"

namespace portico::controllers::ingress {

std::vector<crds::Certificate> desiredCertificates(const crds::Ingress& ingress, bool auto_tls,
                                                   const std::string& issuer) {
  std::vector<crds::Certificate> out;
  const std::string annotation = ingress.metadata.annotation(kTlsAcmeAnnotation);
  if (annotation == "false" || (annotation != "true" && !auto_tls)) return out;
  for (const auto& tls : ingress.spec.tls) {
    if (tls.secret_name.empty() || tls.hosts.empty()) continue;
    crds::Certificate cert;
    cert.metadata.name = tls.secret_name;
    cert.metadata.namespace_ = ingress.metadata.namespace_;
    cert.metadata.labels[kIngressLabel] = ingress.metadata.name;
    // A renewal requested on the Ingress reaches its Certificates.
    const std::string renew = ingress.metadata.annotation(kRenewAnnotation);
    if (!renew.empty()) cert.metadata.annotations[kRenewAnnotation] = renew;
    cert.metadata.owner_references.push_back({"networking.k8s.io/v1", "Ingress",
                                              ingress.metadata.name, ingress.metadata.uid, true,
                                              true});
    cert.spec.secret_name = tls.secret_name;
    cert.spec.dns_names = tls.hosts;
    cert.spec.issuer = issuer;
    out.push_back(std::move(cert));
  }
  return out;
}

}  // namespace portico::controllers::ingress
