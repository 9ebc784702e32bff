#include "acme/jwk.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "operator/base/base64.h"
#include "operator/base/pem.h"

namespace portico::acme {

namespace {

// A big-endian unsigned integer parameter; `width` > 0 left-pads to that many bytes (EC
// coordinates are fixed-size in a JWK, RFC 7518 §6.2.1.2).
Expected<std::string> bnParam(const EVP_PKEY* key, const char* name, int width) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1 || !bn)
    return Status(ErrorCode::InvalidArgument, std::string("key has no ") + name);
  int size = width > 0 ? width : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(size), '\0');
  int written = BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size);
  BN_free(bn);
  if (written != size) return Status(ErrorCode::InvalidArgument, std::string("bad ") + name);
  return out;
}

bool isP256(const EVP_PKEY* key) {
  char curve[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &len) !=
      1)
    return false;
  return std::string(curve, len) == "prime256v1" || std::string(curve, len) == "P-256";
}

}  // namespace

const char* algorithmName(KeyAlgorithm alg) {
  return alg == KeyAlgorithm::ES256 ? "ES256" : "RS256";
}

Expected<AccountKey> generateAccountKey(KeyAlgorithm alg) {
  EVP_PKEY* key = alg == KeyAlgorithm::ES256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  if (!key) {
    ERR_clear_error();
    return Status(ErrorCode::Internal, "cannot generate an account key");
  }
  return AccountKey{EvpPkeyPtr(key), alg};
}

Expected<AccountKey> accountKeyFromPem(const std::string& pem) {
  auto key = parsePrivateKey(pem);
  if (!key) return key.error();
  switch (EVP_PKEY_get_base_id(key->get())) {
    case EVP_PKEY_EC:
      if (!isP256(key->get()))
        return Status(ErrorCode::InvalidArgument, "an EC account key must be on curve P-256");
      return AccountKey{std::move(*key), KeyAlgorithm::ES256};
    case EVP_PKEY_RSA: return AccountKey{std::move(*key), KeyAlgorithm::RS256};
    default: return Status(ErrorCode::InvalidArgument, "account keys are ECDSA P-256 or RSA");
  }
}

std::string privateKeyPem(const EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), const_cast<EVP_PKEY*>(key), nullptr, nullptr, 0, nullptr,
                           nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Expected<nlohmann::json> publicJwk(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      auto x = bnParam(key, OSSL_PKEY_PARAM_EC_PUB_X, 32);
      auto y = bnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
      if (!x) return x.error();
      if (!y) return y.error();
      return nlohmann::json{
          {"crv", "P-256"}, {"kty", "EC"}, {"x", base64UrlEncode(*x)}, {"y", base64UrlEncode(*y)}};
    }
    case EVP_PKEY_RSA: {
      auto n = bnParam(key, OSSL_PKEY_PARAM_RSA_N, 0);
      auto e = bnParam(key, OSSL_PKEY_PARAM_RSA_E, 0);
      if (!n) return n.error();
      if (!e) return e.error();
      return nlohmann::json{{"e", base64UrlEncode(*e)}, {"kty", "RSA"}, {"n", base64UrlEncode(*n)}};
    }
    default: return Status(ErrorCode::InvalidArgument, "unsupported key type for a JWK");
  }
}

Expected<std::string> jwkThumbprint(const EVP_PKEY* key) {
  auto jwk = publicJwk(key);
  if (!jwk) return jwk.error();
  return jwkThumbprint(*jwk);
}

Expected<std::string> jwkThumbprint(const nlohmann::json& jwk) {
  const std::string kty = jwk.value("kty", "");
  std::vector<const char*> required;
  if (kty == "EC")
    required = {"crv", "kty", "x", "y"};
  else if (kty == "RSA")
    required = {"e", "kty", "n"};
  else
    return Status(ErrorCode::InvalidArgument, "JWK kty must be EC or RSA");
  nlohmann::json members = nlohmann::json::object();
  for (const char* name : required) {
    if (!jwk.contains(name) || !jwk[name].is_string())
      return Status(ErrorCode::InvalidArgument, std::string("JWK lacks ") + name);
    members[name] = jwk[name];
  }
  // nlohmann's objects are ordered maps: dump() is the RFC 7638 §3.3 canonical form.
  const std::string canonical = members.dump();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(canonical.data(), canonical.size(), digest, &len, EVP_sha256(), nullptr);
  return base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), len));
}

}  // namespace portico::acme
