// IngressClassConfig (portico.io/v1alpha1, cluster-scoped): the settings of one IngressClass,
// referenced from IngressClass.spec.parameters. The CRD is crds/ingressclassconfig.yaml; its
// defaults are the ones below, so an object read from a server that applied the schema's
// defaults and one read from a file without them decode the same.
// Decoding throws only on wrong JSON types; range and enum mistakes are found by validate() so
// they become an Accepted=False condition instead of a vanished object.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crds/conditions.h"
#include "crds/meta.h"

namespace portico::crds {

inline constexpr const char* kPorticoGroup = "portico.io";
inline constexpr const char* kPorticoVersion = "v1alpha1";
inline constexpr const char* kPorticoApiVersion = "portico.io/v1alpha1";  // group/version

struct ListenerSettings {
  std::string address = "0.0.0.0";
  int64_t http_port = 80;
  int64_t https_port = 443;
  // ALPN offers h2 on the HTTPS listener (spec.listeners.https.http2). Off by default while
  // HTTP/2 support is completed; it will turn on by default then, and stay a switch.
  bool http2 = false;
  bool operator==(const ListenerSettings&) const = default;
};

struct TlsPolicy {
  std::string min_version = "TLSv1.2";  // TLSv1.2 or TLSv1.3
  std::string ciphers;                  // TLS 1.2 OpenSSL cipher list; "" = Portico's default
  std::string cipher_suites;            // TLS 1.3 suites; "" = OpenSSL's default
  bool operator==(const TlsPolicy&) const = default;
};

struct HstsSettings {
  bool enabled = false;
  int64_t max_age_seconds = 31536000;
  bool include_subdomains = false;
  bool preload = false;
  bool operator==(const HstsSettings&) const = default;
};

// What goes into Ingress status.loadBalancer.ingress: fixed addresses, or the addresses of a
// (LoadBalancer) Service's status; neither: the listener address when it is a specific IP.
struct StatusPublishing {
  std::vector<std::string> addresses;  // IPs or hostnames
  std::optional<ObjectKey> service;
  bool operator==(const StatusPublishing&) const = default;
};

struct ProxyTuning {
  int64_t workers = 0;  // 0: one per core
  int64_t header_timeout_seconds = 30;
  int64_t idle_timeout_seconds = 60;
  int64_t connect_timeout_seconds = 5;
  int64_t upstream_timeout_seconds = 60;
  int64_t max_header_bytes = 64 * 1024;
  int64_t max_body_bytes = 0;  // 0: unlimited
  bool access_log = false;
  std::string server_header = "portico";  // "" adds no Server header
  bool operator==(const ProxyTuning&) const = default;
};

struct SecretKeySelector {
  ObjectKey secret;
  std::string key;
  bool operator==(const SecretKeySelector&) const = default;
};

struct ExternalAccountBinding {
  std::string key_id;
  SecretKeySelector key_secret;  // base64url HMAC key, as the CA hands it out
  bool operator==(const ExternalAccountBinding&) const = default;
};

struct AcmeSettings {
  std::string server;  // directory URL
  std::string email;
  std::string ca_bundle;                        // base64 PEM trusted for the server's own TLS
  std::optional<ObjectKey> account_key_secret;  // where the account key lives
  bool auto_tls = false;  // every Ingress of the class with spec.tls gets Certificates
  std::optional<ExternalAccountBinding> external_account_binding;
  std::string preferred_chain;  // issuer CN of the chain to prefer among alternates
  std::string profile;          // ACME profile name, when the CA offers profiles
  bool operator==(const AcmeSettings&) const = default;
};

struct IngressClassConfigSpec {
  ListenerSettings listeners;
  std::optional<ObjectKey> default_certificate;  // a kubernetes.io/tls Secret
  bool ssl_redirect = true;                      // hosts with a certificate redirect HTTP → HTTPS
  TlsPolicy tls;
  HstsSettings hsts;
  StatusPublishing status_publishing;
  ProxyTuning proxy;
  std::string snapshot_path;  // "" = the operator's --snapshot
  std::optional<AcmeSettings> acme;
  bool operator==(const IngressClassConfigSpec&) const = default;
};

struct IngressClassConfigStatus {
  std::vector<Condition> conditions;  // Accepted, Programmed
  int64_t observed_generation = 0;
  uint64_t snapshot_generation = 0;  // the live snapshot that carries this configuration
  int64_t ingresses = 0;             // Ingresses served under this class
};

struct IngressClassConfig {
  ObjectMeta metadata;
  IngressClassConfigSpec spec;
  IngressClassConfigStatus status;
};

// Semantic mistakes, each "spec.field: what is wrong" (empty: valid).
std::vector<std::string> validate(const IngressClassConfigSpec& spec);

void from_json(const Json& j, IngressClassConfig& out);
void to_json(Json& j, const IngressClassConfig& in);
void from_json(const Json& j, IngressClassConfigStatus& out);
void to_json(Json& j, const IngressClassConfigStatus& in);

}  // namespace portico::crds
