// Account keys and their JSON Web Key form: the public JWK (RFC 7517/7518) that goes into
// newAccount, and its RFC 7638 thumbprint that HTTP-01 key authorizations end with.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "operator/base/openssl_ptr.h"
#include "operator/base/status.h"

namespace portico::acme {

enum class KeyAlgorithm { ES256, RS256 };  // ECDSA P-256 + SHA-256, RSA PKCS#1 v1.5 + SHA-256
const char* algorithmName(KeyAlgorithm alg);

struct AccountKey {
  EvpPkeyPtr key;
  KeyAlgorithm alg = KeyAlgorithm::ES256;
};

// A fresh key: ES256 is P-256; RS256 is 2048-bit RSA.
Expected<AccountKey> generateAccountKey(KeyAlgorithm alg = KeyAlgorithm::ES256);
// The algorithm follows the key (EC P-256 → ES256, RSA → RS256); other keys are refused.
Expected<AccountKey> accountKeyFromPem(const std::string& pem);
std::string privateKeyPem(const EVP_PKEY* key);  // PKCS#8; never logged

// The public JWK with only the required members (what the thumbprint hashes).
Expected<nlohmann::json> publicJwk(const EVP_PKEY* key);
// base64url(SHA-256(the JWK's required members, lexicographic order, no whitespace)).
Expected<std::string> jwkThumbprint(const EVP_PKEY* key);
// The same from a JWK document (members other than the required ones are dropped first).
Expected<std::string> jwkThumbprint(const nlohmann::json& jwk);

}  // namespace portico::acme
