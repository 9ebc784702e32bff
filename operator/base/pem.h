// PEM ⇄ OpenSSL objects, and the checks a TLS Secret must pass before it is served.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/base/openssl_ptr.h"
#include "operator/base/status.h"

namespace portico {

Expected<X509Ptr> parseCertificate(std::string_view pem);  // the first certificate
Expected<std::vector<X509Ptr>> parseCertificateChain(std::string_view pem);
Expected<EvpPkeyPtr> parsePrivateKey(std::string_view pem);  // errors never echo the key

struct CertificateInfo {
  std::vector<std::string> dns_names;  // subjectAltName DNS entries, lower case
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  std::string serial_hex;
};

CertificateInfo inspectCertificate(X509* cert);

// Whether a certificate name ("foo.com" or "*.foo.com") covers a host (RFC 6125 §6.4.3: a
// wildcard covers exactly one left-most label).
bool nameCoversHost(std::string_view name, std::string_view host);

// The root certificate a chain ends in, as PEM, when the chain carries it: the last certificate
// is self-signed (its own signature verifies) and issued the one before it. This is a TLS
// Secret's "ca.crt". ACME CAs usually leave the root out of the chain; then there is none.
std::optional<std::string> chainRootPem(std::string_view chain_pem);

// A TLS pair ready to serve: the chain parses, the key parses and matches the leaf, and now is
// inside the validity period. Returns the leaf's details; the error says which check failed.
Expected<CertificateInfo> checkTlsPair(std::string_view cert_chain_pem, std::string_view key_pem,
                                       std::chrono::system_clock::time_point now);

}  // namespace portico
