// The private key of the next certificate (pure): the current key under rotationPolicy Never,
// else a new key of spec.privateKey's algorithm and size. It is kept in the
// "<certificate>-portico-next-key" Secret before the CSR goes out, so a restart between finalize
// and download cannot lose it; the Secret is removed once the TLS Secret is written.
#pragma once

#include <string>

#include "crds/certificate.h"
#include "crds/secret.h"
#include "operator/base/status.h"

namespace portico::controllers::certificate {

Expected<std::string> nextCertificateKey(const crds::Certificate& cert,
                                         const crds::Secret* current);

crds::Secret nextKeySecret(const crds::Certificate& cert, const std::string& key_pem);

}  // namespace portico::controllers::certificate
