#include "acme/directory.h"

#include <nlohmann/json.hpp>

namespace portico::acme {

Expected<Directory> parseDirectory(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object())
    return Status(ErrorCode::DecodeError, "the ACME directory is not a JSON object");
  auto str = [&](const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Directory d;
  d.new_nonce = str("newNonce");
  d.new_account = str("newAccount");
  d.new_order = str("newOrder");
  d.revoke_cert = str("revokeCert");
  d.key_change = str("keyChange");
  d.renewal_info = str("renewalInfo");
  if (auto meta = j.find("meta"); meta != j.end() && meta->is_object()) {
    d.terms_of_service = meta->value("termsOfService", "");
    d.external_account_required = meta->value("externalAccountRequired", false);
    if (auto profiles = meta->find("profiles"); profiles != meta->end() && profiles->is_object())
      for (const auto& [name, description] : profiles->items())
        d.profiles[name] = description.is_string() ? description.get<std::string>() : "";
  }
  if (d.new_nonce.empty() || d.new_account.empty() || d.new_order.empty())
    return Status(ErrorCode::DecodeError,
                  "the ACME directory lacks newNonce, newAccount or newOrder");
  return d;
}

}  // namespace portico::acme
