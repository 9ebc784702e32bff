#include "acme/csr.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

namespace portico::acme {

namespace {
struct ReqDeleter {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};
using X509ReqPtr = std::unique_ptr<X509_REQ, ReqDeleter>;
}  // namespace

Expected<EvpPkeyPtr> generateCertificateKey(CertificateKeyAlgorithm alg, int size) {
  EVP_PKEY* key = nullptr;
  switch (alg) {
    case CertificateKeyAlgorithm::ECDSA:
      if (size != 0 && size != 256 && size != 384)
        return Status(ErrorCode::InvalidArgument, "ECDSA keys are 256 or 384 bits");
      key = EVP_EC_gen(size == 384 ? "P-384" : "P-256");
      break;
    case CertificateKeyAlgorithm::RSA:
      if (size != 0 && size != 2048 && size != 3072 && size != 4096)
        return Status(ErrorCode::InvalidArgument, "RSA keys are 2048, 3072 or 4096 bits");
      key = EVP_RSA_gen(static_cast<unsigned>(size == 0 ? 2048 : size));
      break;
    case CertificateKeyAlgorithm::Ed25519:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (!key) {
    ERR_clear_error();
    return Status(ErrorCode::Internal, "cannot generate the certificate key");
  }
  return EvpPkeyPtr(key);
}

Expected<std::string> makeCsr(const EVP_PKEY* key, const std::vector<std::string>& dns_names) {
  if (dns_names.empty())
    return Status(ErrorCode::InvalidArgument, "a CSR needs at least one DNS name");
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);  // PKCS#10 v1
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  // A CN is limited to 64 characters (RFC 5280); longer first names go in the SAN only.
  if (dns_names[0].size() <= 64)
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(dns_names[0].c_str()), -1, -1,
                               0);
  X509_REQ_set_pubkey(req.get(), const_cast<EVP_PKEY*>(key));

  GENERAL_NAMES* names = sk_GENERAL_NAME_new_null();
  for (const auto& dns : dns_names) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size()));
    GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
    sk_GENERAL_NAME_push(names, gn);
  }
  STACK_OF(X509_EXTENSION)* extensions = sk_X509_EXTENSION_new_null();
  X509_EXTENSION* san = X509V3_EXT_i2d(NID_subject_alt_name, 0, names);
  sk_X509_EXTENSION_push(extensions, san);
  X509_REQ_add_extensions(req.get(), extensions);
  sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
  GENERAL_NAMES_free(names);

  // Ed25519 signs without a separate digest.
  const EVP_MD* md = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (X509_REQ_sign(req.get(), const_cast<EVP_PKEY*>(key), md) <= 0) {
    ERR_clear_error();
    return Status(ErrorCode::Internal, "cannot sign the CSR");
  }
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  if (len <= 0) return Status(ErrorCode::Internal, "cannot encode the CSR");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Expected<std::vector<std::string>> csrDnsNames(const std::string& der, bool* signature_ok) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req) return Status(ErrorCode::DecodeError, "not a DER CSR");
  if (signature_ok) {
    EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
    *signature_ok = pub && X509_REQ_verify(req.get(), pub) == 1;
  }
  std::vector<std::string> out;
  STACK_OF(X509_EXTENSION)* extensions = X509_REQ_get_extensions(req.get());
  for (int i = 0; extensions && i < sk_X509_EXTENSION_num(extensions); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(extensions, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    auto* names = static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext));
    for (int k = 0; names && k < sk_GENERAL_NAME_num(names); ++k) {
      GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, k);
      if (gn->type != GEN_DNS) continue;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                       static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName)));
    }
    GENERAL_NAMES_free(names);
  }
  sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
  ERR_clear_error();
  return out;
}

}  // namespace portico::acme
