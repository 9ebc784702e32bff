#include "acme/objects.h"

namespace portico::acme {

namespace {
std::optional<AcmeProblem> problemOf(const nlohmann::json& j) {
  auto it = j.find("error");
  if (it == j.end() || !it->is_object()) return std::nullopt;
  AcmeProblem p;
  p.type = it->value("type", "about:blank");
  p.detail = it->value("detail", "");
  p.status = it->value("status", 0);
  return p;
}
std::string str(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

const Challenge* Authorization::challenge(const std::string& type) const {
  for (const auto& c : challenges)
    if (c.type == type) return &c;
  return nullptr;
}

Challenge parseChallenge(const nlohmann::json& j) {
  Challenge c;
  c.type = str(j, "type");
  c.url = str(j, "url");
  c.status = str(j, "status");
  c.token = str(j, "token");
  c.error = problemOf(j);
  return c;
}

Authorization parseAuthorization(const nlohmann::json& j, std::string url) {
  Authorization a;
  a.url = std::move(url);
  a.status = str(j, "status");
  if (auto id = j.find("identifier"); id != j.end() && id->is_object())
    a.identifier = str(*id, "value");
  a.wildcard = j.value("wildcard", false);
  if (auto cs = j.find("challenges"); cs != j.end() && cs->is_array())
    for (const auto& c : *cs)
      if (c.is_object()) a.challenges.push_back(parseChallenge(c));
  return a;
}

Order parseOrder(const nlohmann::json& j, std::string url) {
  Order o;
  o.url = std::move(url);
  o.status = str(j, "status");
  if (auto ids = j.find("identifiers"); ids != j.end() && ids->is_array())
    for (const auto& id : *ids)
      if (id.is_object()) o.identifiers.push_back(str(id, "value"));
  if (auto authz = j.find("authorizations"); authz != j.end() && authz->is_array())
    for (const auto& a : *authz)
      if (a.is_string()) o.authorizations.push_back(a.get<std::string>());
  o.finalize = str(j, "finalize");
  o.certificate = str(j, "certificate");
  o.error = problemOf(j);
  return o;
}

}  // namespace portico::acme
