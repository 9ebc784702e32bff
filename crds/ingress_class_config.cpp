#include "crds/ingress_class_config.h"

#include <nlohmann/json.hpp>

namespace portico::crds {

namespace {

std::optional<ObjectKey> secretRef(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_object()) return std::nullopt;
  return ObjectKey{it->value("namespace", "default"), it->value("name", "")};
}

Json secretRefJson(const ObjectKey& key) {
  return Json{{"namespace", key.namespace_}, {"name", key.name}};
}

void checkPort(std::vector<std::string>& errors, const char* field, int64_t port) {
  if (port < 1 || port > 65535)
    errors.push_back(std::string(field) + ": must be 1-65535, not " + std::to_string(port));
}

void checkPositive(std::vector<std::string>& errors, const char* field, int64_t value,
                   int64_t minimum) {
  if (value < minimum)
    errors.push_back(std::string(field) + ": must be at least " + std::to_string(minimum) +
                     ", not " + std::to_string(value));
}

}  // namespace

std::vector<std::string> validate(const IngressClassConfigSpec& spec) {
  std::vector<std::string> errors;
  checkPort(errors, "spec.listeners.http.port", spec.listeners.http_port);
  checkPort(errors, "spec.listeners.https.port", spec.listeners.https_port);
  if (spec.listeners.http_port == spec.listeners.https_port)
    errors.push_back("spec.listeners: http and https cannot share port " +
                     std::to_string(spec.listeners.http_port));
  if (spec.listeners.address.empty()) errors.push_back("spec.listeners.address: must be set");
  if (spec.tls.min_version != "TLSv1.2" && spec.tls.min_version != "TLSv1.3")
    errors.push_back("spec.tls.minVersion: must be TLSv1.2 or TLSv1.3, not \"" +
                     spec.tls.min_version + "\"");
  if (spec.default_certificate && spec.default_certificate->name.empty())
    errors.push_back("spec.defaultCertificate.name: must be set");
  if (spec.status_publishing.service && spec.status_publishing.service->name.empty())
    errors.push_back("spec.statusPublishing.service.name: must be set");
  checkPositive(errors, "spec.hsts.maxAgeSeconds", spec.hsts.max_age_seconds, 0);
  checkPositive(errors, "spec.proxy.workers", spec.proxy.workers, 0);
  checkPositive(errors, "spec.proxy.headerTimeoutSeconds", spec.proxy.header_timeout_seconds, 1);
  checkPositive(errors, "spec.proxy.idleTimeoutSeconds", spec.proxy.idle_timeout_seconds, 1);
  checkPositive(errors, "spec.proxy.connectTimeoutSeconds", spec.proxy.connect_timeout_seconds, 1);
  checkPositive(errors, "spec.proxy.upstreamTimeoutSeconds", spec.proxy.upstream_timeout_seconds,
                1);
  checkPositive(errors, "spec.proxy.maxHeaderBytes", spec.proxy.max_header_bytes, 1024);
  checkPositive(errors, "spec.proxy.maxBodyBytes", spec.proxy.max_body_bytes, 0);
  // A header value (RFC 9110 §5.5): visible characters and inner spaces, nothing that could
  // end the line and inject headers.
  if (spec.proxy.server_header.size() > 256)
    errors.push_back("spec.proxy.serverHeader: must be at most 256 characters");
  for (char c : spec.proxy.server_header) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      errors.push_back("spec.proxy.serverHeader: must not hold control characters (CR, LF, ...)");
      break;
    }
  }
  if (spec.acme) {
    if (spec.acme->server.rfind("https://", 0) != 0 && spec.acme->server.rfind("http://", 0) != 0)
      errors.push_back("spec.acme.server: must be the ACME directory URL (https://...)");
    if (spec.acme->account_key_secret && spec.acme->account_key_secret->name.empty())
      errors.push_back("spec.acme.accountKeySecretRef.name: must be set");
  }
  return errors;
}

void from_json(const Json& j, IngressClassConfigStatus& out) {
  out = IngressClassConfigStatus{};
  if (auto c = j.find("conditions"); c != j.end() && c->is_array())
    out.conditions = c->get<std::vector<Condition>>();
  out.observed_generation = j.value("observedGeneration", int64_t{0});
  out.snapshot_generation = j.value("snapshotGeneration", uint64_t{0});
  out.ingresses = j.value("ingresses", int64_t{0});
}

void to_json(Json& j, const IngressClassConfigStatus& in) {
  j = Json{{"conditions", in.conditions},
           {"observedGeneration", in.observed_generation},
           {"snapshotGeneration", in.snapshot_generation},
           {"ingresses", in.ingresses}};
}

void from_json(const Json& j, IngressClassConfig& out) {
  out = IngressClassConfig{};
  out.metadata = j.value("metadata", Json::object()).get<ObjectMeta>();
  const Json spec = objectAt(j, "spec");
  IngressClassConfigSpec& s = out.spec;

  const Json listeners = objectAt(spec, "listeners");
  s.listeners.address = listeners.value("address", s.listeners.address);
  s.listeners.http_port = objectAt(listeners, "http").value("port", s.listeners.http_port);
  s.listeners.https_port = objectAt(listeners, "https").value("port", s.listeners.https_port);
  s.listeners.http2 = objectAt(listeners, "https").value("http2", s.listeners.http2);
  s.default_certificate = secretRef(spec, "defaultCertificate");
  s.ssl_redirect = spec.value("sslRedirect", s.ssl_redirect);

  const Json tls = objectAt(spec, "tls");
  s.tls.min_version = tls.value("minVersion", s.tls.min_version);
  s.tls.ciphers = tls.value("ciphers", s.tls.ciphers);
  s.tls.cipher_suites = tls.value("cipherSuites", s.tls.cipher_suites);

  const Json hsts = objectAt(spec, "hsts");
  s.hsts.enabled = hsts.value("enabled", s.hsts.enabled);
  s.hsts.max_age_seconds = hsts.value("maxAgeSeconds", s.hsts.max_age_seconds);
  s.hsts.include_subdomains = hsts.value("includeSubDomains", s.hsts.include_subdomains);
  s.hsts.preload = hsts.value("preload", s.hsts.preload);

  const Json publishing = objectAt(spec, "statusPublishing");
  s.status_publishing.addresses = publishing.value("addresses", std::vector<std::string>{});
  s.status_publishing.service = secretRef(publishing, "service");

  const Json proxy = objectAt(spec, "proxy");
  ProxyTuning& p = s.proxy;
  p.workers = proxy.value("workers", p.workers);
  p.header_timeout_seconds = proxy.value("headerTimeoutSeconds", p.header_timeout_seconds);
  p.idle_timeout_seconds = proxy.value("idleTimeoutSeconds", p.idle_timeout_seconds);
  p.connect_timeout_seconds = proxy.value("connectTimeoutSeconds", p.connect_timeout_seconds);
  p.upstream_timeout_seconds = proxy.value("upstreamTimeoutSeconds", p.upstream_timeout_seconds);
  p.max_header_bytes = proxy.value("maxHeaderBytes", p.max_header_bytes);
  p.max_body_bytes = proxy.value("maxBodyBytes", p.max_body_bytes);
  p.access_log = proxy.value("accessLog", p.access_log);
  p.server_header = proxy.value("serverHeader", p.server_header);
  s.snapshot_path = spec.value("snapshotPath", "");

  if (auto a = spec.find("acme"); a != spec.end() && a->is_object()) {
    AcmeSettings acme;
    acme.server = a->value("server", "");
    acme.email = a->value("email", "");
    acme.ca_bundle = a->value("caBundle", "");
    acme.account_key_secret = secretRef(*a, "accountKeySecretRef");
    acme.auto_tls = a->value("autoTLS", false);
    if (auto e = a->find("externalAccountBinding"); e != a->end() && e->is_object()) {
      ExternalAccountBinding eab;
      eab.key_id = e->value("keyID", "");
      const Json ref = objectAt(*e, "keySecretRef");
      eab.key_secret = {{ref.value("namespace", "default"), ref.value("name", "")},
                        ref.value("key", "secret")};
      acme.external_account_binding = eab;
    }
    acme.preferred_chain = a->value("preferredChain", "");
    acme.profile = a->value("profile", "");
    s.acme = std::move(acme);
  }
  out.status = objectAt(j, "status").get<IngressClassConfigStatus>();
}

void to_json(Json& j, const IngressClassConfig& in) {
  const IngressClassConfigSpec& s = in.spec;
  j = Json{{"apiVersion", std::string(kPorticoGroup) + "/" + kPorticoVersion},
           {"kind", "IngressClassConfig"},
           {"metadata", in.metadata}};
  Json spec;
  spec["listeners"] = {{"address", s.listeners.address},
                       {"http", {{"port", s.listeners.http_port}}},
                       {"https", {{"port", s.listeners.https_port}, {"http2", s.listeners.http2}}}};
  if (s.default_certificate) spec["defaultCertificate"] = secretRefJson(*s.default_certificate);
  spec["sslRedirect"] = s.ssl_redirect;
  spec["tls"] = {{"minVersion", s.tls.min_version}};
  if (!s.tls.ciphers.empty()) spec["tls"]["ciphers"] = s.tls.ciphers;
  if (!s.tls.cipher_suites.empty()) spec["tls"]["cipherSuites"] = s.tls.cipher_suites;
  spec["hsts"] = {{"enabled", s.hsts.enabled},
                  {"maxAgeSeconds", s.hsts.max_age_seconds},
                  {"includeSubDomains", s.hsts.include_subdomains},
                  {"preload", s.hsts.preload}};
  Json publishing = Json::object();
  if (!s.status_publishing.addresses.empty())
    publishing["addresses"] = s.status_publishing.addresses;
  if (s.status_publishing.service)
    publishing["service"] = secretRefJson(*s.status_publishing.service);
  if (!publishing.empty()) spec["statusPublishing"] = publishing;
  const ProxyTuning& p = s.proxy;
  spec["proxy"] = {{"workers", p.workers},
                   {"headerTimeoutSeconds", p.header_timeout_seconds},
                   {"idleTimeoutSeconds", p.idle_timeout_seconds},
                   {"connectTimeoutSeconds", p.connect_timeout_seconds},
                   {"upstreamTimeoutSeconds", p.upstream_timeout_seconds},
                   {"maxHeaderBytes", p.max_header_bytes},
                   {"maxBodyBytes", p.max_body_bytes},
                   {"accessLog", p.access_log},
                   {"serverHeader", p.server_header}};
  if (!s.snapshot_path.empty()) spec["snapshotPath"] = s.snapshot_path;
  if (s.acme) {
    const AcmeSettings& a = *s.acme;
    Json acme = {{"server", a.server}, {"autoTLS", a.auto_tls}};
    if (!a.email.empty()) acme["email"] = a.email;
    if (!a.ca_bundle.empty()) acme["caBundle"] = a.ca_bundle;
    if (a.account_key_secret) acme["accountKeySecretRef"] = secretRefJson(*a.account_key_secret);
    if (a.external_account_binding) {
      const auto& eab = *a.external_account_binding;
      Json ref = secretRefJson(eab.key_secret.secret);
      ref["key"] = eab.key_secret.key;
      acme["externalAccountBinding"] = {{"keyID", eab.key_id}, {"keySecretRef", ref}};
    }
    if (!a.preferred_chain.empty()) acme["preferredChain"] = a.preferred_chain;
    if (!a.profile.empty()) acme["profile"] = a.profile;
    spec["acme"] = acme;
  }
  j["spec"] = spec;
  j["status"] = in.status;
}

}  // namespace portico::crds
