// The Certificates an Ingress asks for (pure): with the annotation portico.io/tls-acme: "true",
// or in a class whose config sets spec.acme.autoTLS, every spec.tls entry with hosts and a
// secretName becomes a Certificate named after the Secret, owned by the Ingress (so deleting the
// Ingress deletes it; the Secret stays, as with cert-manager).
#pragma once

#include <vector>

#include "crds/certificate.h"
#include "crds/ingress.h"

namespace portico::controllers::ingress {

inline constexpr const char* kTlsAcmeAnnotation = "portico.io/tls-acme";
inline constexpr const char* kIngressLabel = "portico.io/ingress";
// Same value as certificate::kRenewAnnotation: set on an Ingress, it renews its Certificates.
inline constexpr const char* kRenewAnnotation = "portico.io/renew";

std::vector<crds::Certificate> desiredCertificates(const crds::Ingress& ingress, bool auto_tls,
                                                   const std::string& issuer);

}  // namespace portico::controllers::ingress
