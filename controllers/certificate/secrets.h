// The Secret reads and writes the Certificate controller makes (TLS Secrets, account and CSR keys).
#pragma once

#include <memory>

#include "crds/secret.h"
#include "operator/kube/client.h"

namespace portico::controllers::certificate {

// The Secret, or null when it does not exist.
Expected<std::shared_ptr<crds::Secret>> getSecret(kube::KubeClient& client, const ObjectKey& key);

// The reason (Conditions, Events, Status::reason()) when a Secret is not Portico's to write.
inline constexpr const char* kSecretOwnedByOther = "SecretOwnedByOther";
// Annotation on the ACME account key Secret: the IngressClassConfig it belongs to.
inline constexpr const char* kAcmeAccountAnnotation = "portico.io/acme-account";

// Whether `existing` is Portico's to overwrite with `desired`: it carries the same Portico
// ownership annotation (portico.io/certificate-name, portico.io/acme-account) with the same
// value, or an owner reference with the same uid. Anything else (an application's credentials
// that happen to have the name) is never overwritten: Portico is no confused deputy.
bool secretWritableBy(const crds::Secret& existing, const crds::Secret& desired);

// Creates the Secret, or replaces its data/type/labels/annotations when it exists and
// secretWritableBy() allows it; otherwise an error with reason kSecretOwnedByOther.
Status putSecret(kube::KubeClient& client, const crds::Secret& secret);

// Deletes the Secret; one already gone is not an error.
Status deleteSecret(kube::KubeClient& client, const ObjectKey& key);

}  // namespace portico::controllers::certificate
