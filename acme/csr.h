// Certificate keys and the PKCS#10 request finalize sends (RFC 8555 §7.4): every DNS name is a
// subjectAltName (CAs ignore the subject; the first name is also the CN for old clients).
#pragma once

#include <string>
#include <vector>

#include "operator/base/openssl_ptr.h"
#include "operator/base/status.h"

namespace portico::acme {

enum class CertificateKeyAlgorithm { ECDSA, RSA, Ed25519 };

// ECDSA: size 256 (P-256, default) or 384 (P-384); RSA: 2048 (default), 3072 or 4096.
Expected<EvpPkeyPtr> generateCertificateKey(CertificateKeyAlgorithm alg, int size = 0);

// DER bytes of the CSR, signed by `key`.
Expected<std::string> makeCsr(const EVP_PKEY* key, const std::vector<std::string>& dns_names);

// For tests and checks: the subjectAltName DNS names in a DER CSR, and whether its signature
// verifies.
Expected<std::vector<std::string>> csrDnsNames(const std::string& der,
                                               bool* signature_ok = nullptr);

}  // namespace portico::acme
