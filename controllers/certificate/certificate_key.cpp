#include "controllers/certificate/certificate_key.h"

#include "acme/csr.h"
#include "acme/jwk.h"
#include "controllers/certificate/policies.h"
#include "operator/base/pem.h"

namespace portico::controllers::certificate {

namespace {
acme::CertificateKeyAlgorithm keyAlgorithm(const std::string& name) {
  if (name == "RSA") return acme::CertificateKeyAlgorithm::RSA;
  if (name == "Ed25519") return acme::CertificateKeyAlgorithm::Ed25519;
  return acme::CertificateKeyAlgorithm::ECDSA;
}
}  // namespace

Expected<std::string> nextCertificateKey(const crds::Certificate& cert,
                                         const crds::Secret* current) {
  const std::string* old_key = current ? current->find("tls.key") : nullptr;
  if (cert.spec.private_key.rotation_policy == "Never" && old_key && parsePrivateKey(*old_key))
    return *old_key;
  auto key = acme::generateCertificateKey(keyAlgorithm(cert.spec.private_key.algorithm),
                                          static_cast<int>(cert.spec.private_key.size));
  if (!key) return key.error();
  return acme::privateKeyPem(key->get());
}

crds::Secret nextKeySecret(const crds::Certificate& cert, const std::string& key_pem) {
  crds::Secret next;
  next.metadata.name = cert.metadata.name + "-portico-next-key";
  next.metadata.namespace_ = cert.metadata.namespace_;
  next.metadata.annotations[kCertificateNameAnnotation] = cert.metadata.name;
  // Owned by the Certificate: deleting it deletes a key an interrupted order left behind.
  if (!cert.metadata.uid.empty())
    next.metadata.owner_references.push_back(
        {"portico.io/v1alpha1", "Certificate", cert.metadata.name, cert.metadata.uid, true, false});
  next.type = "Opaque";
  next.data["tls.key"] = key_pem;
  return next;
}

}  // namespace portico::controllers::certificate
