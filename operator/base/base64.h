// Base64 (RFC 4648 §4) and base64url without padding (§5, as JOSE/ACME use it).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace portico {

std::string base64Encode(std::string_view data);
// Accepts padded or unpadded input; ignores ASCII whitespace (kubeconfig data may be wrapped).
std::optional<std::string> base64Decode(std::string_view text);

std::string base64UrlEncode(std::string_view data);
std::optional<std::string> base64UrlDecode(std::string_view text);

}  // namespace portico
