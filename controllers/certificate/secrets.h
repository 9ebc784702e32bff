// The Secret reads and writes the Certificate controller makes (TLS Secrets, account and CSR keys).
#pragma once

#include <memory>

#include "crds/secret.h"
#include "operator/kube/client.h"

namespace portico::controllers::certificate {

// The Secret, or null when it does not exist.
Expected<std::shared_ptr<crds::Secret>> getSecret(kube::KubeClient& client, const ObjectKey& key);

// Creates the Secret, or replaces its data/type/labels/annotations when it exists.
Status putSecret(kube::KubeClient& client, const crds::Secret& secret);

// Deletes the Secret; one already gone is not an error.
Status deleteSecret(kube::KubeClient& client, const ObjectKey& key);

}  // namespace portico::controllers::certificate
