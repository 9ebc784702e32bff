// Test certificates made on the fly with OpenSSL: an ECDSA P-256 key and a certificate for the
// given DNS names, self-signed or signed by a test CA, valid from `not_before` to `not_after`.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace portico::testing {

struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

TestCertificate makeCertificate(const std::vector<std::string>& dns_names,
                                std::chrono::system_clock::time_point not_before,
                                std::chrono::system_clock::time_point not_after,
                                const TestCertificate* issuer = nullptr, bool is_ca = false);

// Valid from an hour ago for 90 days.
TestCertificate makeCertificate(const std::vector<std::string>& dns_names);

// What a CA's finalize issues: a certificate (PEM) for the public key of a PKCS#10 request
// (DER), naming `dns_names`, signed by `issuer`. Empty when the request does not parse.
std::string issueForCsr(const std::string& csr_der, const std::vector<std::string>& dns_names,
                        std::chrono::system_clock::time_point not_before,
                        std::chrono::system_clock::time_point not_after,
                        const TestCertificate& issuer);

}  // namespace portico::testing
