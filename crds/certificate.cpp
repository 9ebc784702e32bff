#include "crds/certificate.h"

#include <nlohmann/json.hpp>

namespace portico::crds {

std::optional<std::chrono::seconds> parseDuration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  long long total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start || i == text.size() || i - start > 9) return std::nullopt;
    long long value = std::stoll(text.substr(start, i - start));
    switch (text[i++]) {
      case 'h': total += value * 3600; break;
      case 'm': total += value * 60; break;
      case 's': total += value; break;
      default: return std::nullopt;
    }
  }
  return std::chrono::seconds(total);
}

std::string formatDuration(std::chrono::seconds duration) {
  long long s = duration.count();
  std::string out;
  if (s >= 3600) out += std::to_string(s / 3600) + "h";
  if (s % 3600 >= 60) out += std::to_string(s % 3600 / 60) + "m";
  if (s % 60 || out.empty()) out += std::to_string(s % 60) + "s";
  return out;
}

std::vector<std::string> validate(const CertificateSpec& spec) {
  std::vector<std::string> errors;
  if (spec.secret_name.empty()) errors.push_back("spec.secretName: must be set");
  if (spec.dns_names.empty()) errors.push_back("spec.dnsNames: at least one name is required");
  const auto& k = spec.private_key;
  if (k.algorithm != "ECDSA" && k.algorithm != "RSA" && k.algorithm != "Ed25519")
    errors.push_back("spec.privateKey.algorithm: must be ECDSA, RSA or Ed25519");
  if (k.algorithm == "ECDSA" && k.size != 0 && k.size != 256 && k.size != 384)
    errors.push_back("spec.privateKey.size: ECDSA keys are 256 or 384");
  if (k.algorithm == "RSA" && k.size != 0 && k.size != 2048 && k.size != 3072 && k.size != 4096)
    errors.push_back("spec.privateKey.size: RSA keys are 2048, 3072 or 4096");
  if (k.rotation_policy != "Always" && k.rotation_policy != "Never")
    errors.push_back("spec.privateKey.rotationPolicy: must be Always or Never");
  if (spec.renew_before_percentage &&
      (*spec.renew_before_percentage < 1 || *spec.renew_before_percentage > 99))
    errors.push_back("spec.renewBeforePercentage: must be 1-99");
  return errors;
}

namespace {
// Status strings are written as null when empty (see stringOrNull) and read back as "".
std::string text(const Json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::vector<std::string> texts(const Json& j, const char* name) {
  std::vector<std::string> out;
  if (auto it = j.find(name); it != j.end() && it->is_array())
    for (const auto& item : *it)
      if (item.is_string()) out.push_back(item.get<std::string>());
  return out;
}
// Status is written with JSON merge patches (RFC 7386): an empty value must be null so that it
// removes the old one (the API server also refuses "" for these string fields in a patch).
Json stringOrNull(const std::string& value) {
  return value.empty() ? Json(nullptr) : Json(value);
}
}  // namespace

void from_json(const Json& j, CertificateStatus& out) {
  out = CertificateStatus{};
  if (auto c = j.find("conditions"); c != j.end() && c->is_array())
    out.conditions = c->get<std::vector<Condition>>();
  out.observed_generation = j.value("observedGeneration", int64_t{0});
  out.not_before = text(j, "notBefore");
  out.not_after = text(j, "notAfter");
  out.renewal_time = text(j, "renewalTime");
  out.revision = j.value("revision", int64_t{0});
  out.last_failure_time = text(j, "lastFailureTime");
  out.failed_issuance_attempts = j.value("failedIssuanceAttempts", int64_t{0});
  if (auto o = j.find("order"); o != j.end() && o->is_object()) {
    OrderProgress p;
    p.url = text(*o, "url");
    p.status = text(*o, "status");
    p.dns_names = texts(*o, "dnsNames");
    p.authorizations = texts(*o, "authorizations");
    p.finalize = text(*o, "finalize");
    p.certificate = text(*o, "certificate");
    p.responded = o->value("responded", false);
    p.next_key_secret = text(*o, "nextKeySecret");
    if (auto cs = o->find("challenges"); cs != o->end() && cs->is_array())
      for (const auto& c : *cs)
        if (c.is_object())
          p.challenges.push_back(
              {text(c, "dnsName"), text(c, "token"), text(c, "keyAuthorization"), text(c, "url")});
    out.order = std::move(p);
  }
}

void to_json(Json& j, const CertificateStatus& in) {
  j = Json{{"conditions", in.conditions},
           {"observedGeneration", in.observed_generation},
           {"revision", in.revision},
           {"failedIssuanceAttempts", in.failed_issuance_attempts},
           {"notBefore", stringOrNull(in.not_before)},
           {"notAfter", stringOrNull(in.not_after)},
           {"renewalTime", stringOrNull(in.renewal_time)},
           {"lastFailureTime", stringOrNull(in.last_failure_time)}};
  if (in.order) {
    const auto& p = *in.order;
    Json challenges = Json::array();
    for (const auto& c : p.challenges)
      challenges.push_back({{"dnsName", c.dns_name},
                            {"token", c.token},
                            {"keyAuthorization", c.key_authorization},
                            {"url", c.url}});
    j["order"] = {{"url", stringOrNull(p.url)},
                  {"status", stringOrNull(p.status)},
                  {"dnsNames", p.dns_names},
                  {"authorizations", p.authorizations},
                  {"finalize", stringOrNull(p.finalize)},
                  {"certificate", stringOrNull(p.certificate)},
                  {"responded", p.responded},
                  {"nextKeySecret", stringOrNull(p.next_key_secret)},
                  {"challenges", challenges}};
  } else {
    j["order"] = nullptr;  // a merge patch with null removes a finished order
  }
}

void from_json(const Json& j, Certificate& out) {
  out = Certificate{};
  out.metadata = j.value("metadata", Json::object()).get<ObjectMeta>();
  const Json spec = objectAt(j, "spec");
  auto& s = out.spec;
  s.secret_name = spec.value("secretName", "");
  s.dns_names = spec.value("dnsNames", std::vector<std::string>{});
  s.issuer = objectAt(spec, "issuerRef").value("name", "");
  if (auto rb = spec.find("renewBefore"); rb != spec.end() && rb->is_string()) {
    s.renew_before = parseDuration(rb->get<std::string>());
    if (!s.renew_before)
      throw std::invalid_argument("spec.renewBefore: not a duration like 720h: " +
                                  rb->get<std::string>());
  }
  if (auto p = spec.find("renewBeforePercentage"); p != spec.end() && p->is_number_integer())
    s.renew_before_percentage = p->get<int64_t>();
  const Json key = objectAt(spec, "privateKey");
  s.private_key.algorithm = key.value("algorithm", s.private_key.algorithm);
  s.private_key.size = key.value("size", s.private_key.size);
  s.private_key.rotation_policy = key.value("rotationPolicy", s.private_key.rotation_policy);
  const Json tmpl = objectAt(spec, "secretTemplate");
  s.secret_labels = tmpl.value("labels", std::map<std::string, std::string>{});
  s.secret_annotations = tmpl.value("annotations", std::map<std::string, std::string>{});
  out.status = objectAt(j, "status").get<CertificateStatus>();
}

void to_json(Json& j, const Certificate& in) {
  const auto& s = in.spec;
  j = Json{
      {"apiVersion", "portico.io/v1alpha1"}, {"kind", "Certificate"}, {"metadata", in.metadata}};
  Json spec = {{"secretName", s.secret_name},
               {"dnsNames", s.dns_names},
               {"privateKey",
                {{"algorithm", s.private_key.algorithm},
                 {"size", s.private_key.size},
                 {"rotationPolicy", s.private_key.rotation_policy}}}};
  if (!s.issuer.empty()) spec["issuerRef"] = {{"name", s.issuer}};
  if (s.renew_before) spec["renewBefore"] = formatDuration(*s.renew_before);
  if (s.renew_before_percentage) spec["renewBeforePercentage"] = *s.renew_before_percentage;
  if (!s.secret_labels.empty() || !s.secret_annotations.empty())
    spec["secretTemplate"] = {{"labels", s.secret_labels}, {"annotations", s.secret_annotations}};
  j["spec"] = spec;
  j["status"] = in.status;
}

}  // namespace portico::crds
