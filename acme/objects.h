// The ACME resources the client reads (RFC 8555 §7.1.2–§7.1.5), decoded leniently: unknown
// fields are ignored, and a missing status reads as "" (which the order machine treats as
// unknown and re-fetches).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "acme/problem.h"

namespace portico::acme {

struct Account {
  std::string url;  // the kid of every later request
  std::string status;
  std::vector<std::string> contact;
};

struct Challenge {
  std::string type;  // "http-01", "dns-01", "tls-alpn-01"
  std::string url;
  std::string status;  // pending, processing, valid, invalid
  std::string token;
  std::optional<AcmeProblem> error;
};

struct Authorization {
  std::string url;
  std::string identifier;  // the DNS name
  bool wildcard = false;
  std::string status;  // pending, valid, invalid, deactivated, expired, revoked
  std::vector<Challenge> challenges;
  const Challenge* challenge(const std::string& type) const;
};

struct Order {
  std::string url;
  std::string status;  // pending, ready, processing, valid, invalid
  std::vector<std::string> identifiers;
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;
  std::optional<AcmeProblem> error;
};

Order parseOrder(const nlohmann::json& j, std::string url);
Authorization parseAuthorization(const nlohmann::json& j, std::string url);
Challenge parseChallenge(const nlohmann::json& j);

}  // namespace portico::acme
