#include "operator/base/pem.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>

namespace portico {

namespace {

BioPtr memoryBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::chrono::system_clock::time_point toTimePoint(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

Expected<X509Ptr> parseCertificate(std::string_view pem) {
  auto bio = memoryBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!cert) return Status(ErrorCode::InvalidArgument, "no PEM certificate found");
  return cert;
}

Expected<std::vector<X509Ptr>> parseCertificateChain(std::string_view pem) {
  auto bio = memoryBio(pem);
  std::vector<X509Ptr> chain;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
    chain.emplace_back(cert);
  ERR_clear_error();
  if (chain.empty()) return Status(ErrorCode::InvalidArgument, "no PEM certificate found");
  return chain;
}

Expected<EvpPkeyPtr> parsePrivateKey(std::string_view pem) {
  auto bio = memoryBio(pem);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!key) return Status(ErrorCode::InvalidArgument, "no PEM private key found");
  return key;
}

CertificateInfo inspectCertificate(X509* cert) {
  CertificateInfo info;
  info.not_before = toTimePoint(X509_get0_notBefore(cert));
  info.not_after = toTimePoint(X509_get0_notAfter(cert));
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type != GEN_DNS) continue;
      const unsigned char* data = ASN1_STRING_get0_data(name->d.dNSName);
      std::string dns(reinterpret_cast<const char*>(data), ASN1_STRING_length(name->d.dNSName));
      std::transform(dns.begin(), dns.end(), dns.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      info.dns_names.push_back(std::move(dns));
    }
    GENERAL_NAMES_free(names);
  }
  if (const ASN1_INTEGER* serial = X509_get0_serialNumber(cert)) {
    BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
    if (bn) {
      char* hex = BN_bn2hex(bn);
      info.serial_hex = hex;
      OPENSSL_free(hex);
      BN_free(bn);
    }
  }
  return info;
}

std::optional<std::string> chainRootPem(std::string_view chain_pem) {
  auto chain = parseCertificateChain(chain_pem);
  if (!chain || chain->size() < 2) return std::nullopt;  // a leaf alone is no CA
  X509* root = chain->back().get();
  X509* below = (*chain)[chain->size() - 2].get();
  EVP_PKEY* root_key = X509_get0_pubkey(root);
  const bool self_signed =
      X509_check_issued(root, root) == X509_V_OK && root_key && X509_verify(root, root_key) == 1;
  const bool issued_below = X509_check_issued(root, below) == X509_V_OK;
  ERR_clear_error();
  if (!self_signed || !issued_below) return std::nullopt;
  BioPtr out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509(out.get(), root) != 1) return std::nullopt;
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

bool nameCoversHost(std::string_view name, std::string_view host) {
  if (name.size() > 2 && name[0] == '*' && name[1] == '.') {
    auto dot = host.find('.');
    return dot != std::string_view::npos && dot > 0 && host.substr(dot) == name.substr(1);
  }
  return name == host;
}

Expected<CertificateInfo> checkTlsPair(std::string_view cert_chain_pem, std::string_view key_pem,
                                       std::chrono::system_clock::time_point now) {
  auto chain = parseCertificateChain(cert_chain_pem);
  if (!chain) return Status(ErrorCode::InvalidArgument, "tls.crt: " + chain.error().message());
  auto key = parsePrivateKey(key_pem);
  if (!key) return Status(ErrorCode::InvalidArgument, "tls.key: " + key.error().message());
  X509* leaf = chain->front().get();
  if (X509_check_private_key(leaf, key->get()) != 1) {
    ERR_clear_error();
    return Status(ErrorCode::InvalidArgument, "tls.key does not match the certificate in tls.crt");
  }
  CertificateInfo info = inspectCertificate(leaf);
  if (now < info.not_before)
    return Status(ErrorCode::InvalidArgument, "the certificate is not valid yet");
  if (now >= info.not_after)
    return Status(ErrorCode::InvalidArgument, "the certificate has expired");
  return info;
}

}  // namespace portico
