// RFC 8555 §6.2 requests: a flattened JWS JSON Serialization whose protected header carries
// alg, nonce, url and either the account's jwk (newAccount, revocation by key) or its kid (every
// request after registration). An empty payload is a POST-as-GET (§6.3).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "acme/jwk.h"

namespace portico::acme {

struct JwsHeader {
  std::string nonce;
  std::string url;
  std::string kid;  // empty: embed the public jwk instead
};

Expected<nlohmann::json> signJws(const AccountKey& key, const JwsHeader& header,
                                 const std::string& payload);

// The External Account Binding of newAccount (RFC 8555 §7.3.4): the account's JWK, signed with
// the CA-issued HMAC key (base64url) under HS256, with kid = key_id and the newAccount url.
Expected<nlohmann::json> externalAccountBinding(const AccountKey& account_key,
                                                const std::string& key_id,
                                                const std::string& hmac_key_b64url,
                                                const std::string& url);

// Verifies a JWS made by signJws with the key's public half (tests, and a self-check).
bool verifyJws(const EVP_PKEY* key, const nlohmann::json& jws);

}  // namespace portico::acme
