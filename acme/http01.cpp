#include "acme/http01.h"

namespace portico::acme {

std::string keyAuthorization(const std::string& token, const std::string& thumbprint) {
  return token + "." + thumbprint;
}

bool isValidToken(std::string_view token) {
  if (token.size() < 22 || token.size() > 256) return false;  // 22 base64url chars = 128 bits
  for (char c : token) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace portico::acme
