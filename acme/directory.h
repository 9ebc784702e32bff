// The ACME directory (RFC 8555 §7.1.1), with the optional renewalInfo (RFC 9773) and profiles.
#pragma once

#include <map>
#include <string>

#include "operator/base/status.h"

namespace portico::acme {

struct Directory {
  std::string new_nonce;
  std::string new_account;
  std::string new_order;
  std::string revoke_cert;
  std::string key_change;
  std::string renewal_info;  // "" when the CA does not offer ARI
  std::string terms_of_service;
  bool external_account_required = false;
  std::map<std::string, std::string> profiles;  // name → description; empty when none offered
};

Expected<Directory> parseDirectory(const std::string& body);

}  // namespace portico::acme
