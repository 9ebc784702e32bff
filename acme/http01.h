// HTTP-01 (RFC 8555 §8.3): the CA fetches http://<domain>/.well-known/acme-challenge/<token>
// and expects the key authorization, token "." base64url(JWK thumbprint) (§8.1).
#pragma once

#include <string>
#include <string_view>

namespace portico::acme {

inline constexpr const char* kChallengePathPrefix = "/.well-known/acme-challenge/";

std::string keyAuthorization(const std::string& token, const std::string& thumbprint);

// A token is base64url with at least 128 bits of entropy (§8.3): only [A-Za-z0-9_-], and we
// refuse anything that could be a path trick before it reaches the snapshot.
bool isValidToken(std::string_view token);

}  // namespace portico::acme
