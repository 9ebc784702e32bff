#include "acme/jws.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "operator/base/base64.h"

namespace portico::acme {

namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

Expected<std::string> sign(const AccountKey& key, const std::string& input) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1) {
    ERR_clear_error();
    return Status(ErrorCode::Internal, "cannot sign the request");
  }
  std::string der(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    ERR_clear_error();
    return Status(ErrorCode::Internal, "cannot sign the request");
  }
  der.resize(len);
  if (key.alg == KeyAlgorithm::RS256) return der;
  // JWS ES256 wants R || S, each 32 bytes (RFC 7518 §3.4), not OpenSSL's DER ECDSA-Sig-Value.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) return Status(ErrorCode::Internal, "bad ECDSA signature");
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

}  // namespace

Expected<nlohmann::json> signJws(const AccountKey& key, const JwsHeader& header,
                                 const std::string& payload) {
  nlohmann::json protected_header = {
      {"alg", algorithmName(key.alg)}, {"nonce", header.nonce}, {"url", header.url}};
  if (header.kid.empty()) {
    auto jwk = publicJwk(key.key.get());
    if (!jwk) return jwk.error();
    protected_header["jwk"] = *jwk;
  } else {
    protected_header["kid"] = header.kid;
  }
  const std::string protected_b64 = base64UrlEncode(protected_header.dump());
  const std::string payload_b64 = base64UrlEncode(payload);
  auto signature = sign(key, protected_b64 + "." + payload_b64);
  if (!signature) return signature.error();
  return nlohmann::json{{"protected", protected_b64},
                        {"payload", payload_b64},
                        {"signature", base64UrlEncode(*signature)}};
}

Expected<nlohmann::json> externalAccountBinding(const AccountKey& account_key,
                                                const std::string& key_id,
                                                const std::string& hmac_key_b64url,
                                                const std::string& url) {
  auto hmac_key = base64UrlDecode(hmac_key_b64url);
  if (!hmac_key || hmac_key->empty())
    return Status(ErrorCode::InvalidArgument, "the EAB HMAC key is not base64url");
  auto jwk = publicJwk(account_key.key.get());
  if (!jwk) return jwk.error();
  const std::string protected_b64 =
      base64UrlEncode(nlohmann::json{{"alg", "HS256"}, {"kid", key_id}, {"url", url}}.dump());
  const std::string payload_b64 = base64UrlEncode(jwk->dump());
  const std::string input = protected_b64 + "." + payload_b64;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), hmac_key->data(), static_cast<int>(hmac_key->size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return nlohmann::json{
      {"protected", protected_b64},
      {"payload", payload_b64},
      {"signature", base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), len))}};
}

bool verifyJws(const EVP_PKEY* key, const nlohmann::json& jws) {
  const std::string input = jws.value("protected", "") + "." + jws.value("payload", "");
  auto signature = base64UrlDecode(jws.value("signature", ""));
  if (!signature) return false;
  std::string der = *signature;
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    if (signature->size() != 64) return false;
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(
        sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(signature->data()), 32, nullptr),
        BN_bin2bn(reinterpret_cast<const unsigned char*>(signature->data()) + 32, 32, nullptr));
    unsigned char* out = nullptr;
    int len = i2d_ECDSA_SIG(sig, &out);
    ECDSA_SIG_free(sig);
    if (len <= 0) return false;
    der.assign(reinterpret_cast<char*>(out), static_cast<size_t>(len));
    OPENSSL_free(out);
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok =
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, const_cast<EVP_PKEY*>(key)) ==
          1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace portico::acme
