#include "tests/fakes/test_certs.h"

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include "operator/base/openssl_ptr.h"
#include "operator/base/pem.h"

namespace portico::testing {

namespace {

std::string toPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

std::string toPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

void addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) throw std::runtime_error("bad extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` (its public half), signed by `issuer` or by `key` itself.
X509Ptr buildCertificate(EVP_PKEY* key, const std::vector<std::string>& dns_names,
                         std::chrono::system_clock::time_point not_before,
                         std::chrono::system_clock::time_point not_after,
                         const TestCertificate* issuer, bool is_ca, EVP_PKEY* self_signer) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  static long serial = 1000;
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  time_t from = std::chrono::system_clock::to_time_t(not_before);
  time_t until = std::chrono::system_clock::to_time_t(not_after);
  X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, &from);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, 0, &until);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn = dns_names.empty() ? "portico-test" : dns_names.front();
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509Ptr issuer_cert;
  EvpPkeyPtr issuer_key;
  if (issuer) {
    issuer_cert = std::move(*parseCertificate(issuer->cert_pem));
    issuer_key = std::move(*parsePrivateKey(issuer->key_pem));
    X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert.get()));
  } else {
    X509_set_issuer_name(cert.get(), name);
  }
  X509* signer_cert = issuer ? issuer_cert.get() : cert.get();
  if (!dns_names.empty()) {
    std::string san;
    for (const auto& n : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
    addExtension(cert.get(), signer_cert, NID_subject_alt_name, san);
  }
  addExtension(cert.get(), signer_cert, NID_basic_constraints,
               is_ca ? "critical,CA:TRUE" : "CA:FALSE");
  // Key identifiers as a CA sets them (ACME ARI certIDs are built from the AKI).
  addExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  if (issuer) addExtension(cert.get(), signer_cert, NID_authority_key_identifier, "keyid:always");
  X509_sign(cert.get(), issuer ? issuer_key.get() : self_signer, EVP_sha256());
  return cert;
}

}  // namespace

TestCertificate makeCertificate(const std::vector<std::string>& dns_names,
                                std::chrono::system_clock::time_point not_before,
                                std::chrono::system_clock::time_point not_after,
                                const TestCertificate* issuer, bool is_ca) {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert =
      buildCertificate(key.get(), dns_names, not_before, not_after, issuer, is_ca, key.get());
  return {toPem(cert.get()), toPem(key.get())};
}

std::string issueForCsr(const std::string& csr_der, const std::vector<std::string>& dns_names,
                        std::chrono::system_clock::time_point not_before,
                        std::chrono::system_clock::time_point not_after,
                        const TestCertificate& issuer) {
  const auto* data = reinterpret_cast<const unsigned char*>(csr_der.data());
  X509_REQ* request = d2i_X509_REQ(nullptr, &data, static_cast<long>(csr_der.size()));
  if (!request) return "";
  EvpPkeyPtr key(X509_REQ_get_pubkey(request));
  X509_REQ_free(request);
  if (!key) return "";
  X509Ptr cert =
      buildCertificate(key.get(), dns_names, not_before, not_after, &issuer, false, nullptr);
  return toPem(cert.get());
}

TestCertificate makeCertificate(const std::vector<std::string>& dns_names) {
  auto now = std::chrono::system_clock::now();
  return makeCertificate(dns_names, now - std::chrono::hours(1), now + std::chrono::hours(24 * 90));
}

}  // namespace portico::testing
