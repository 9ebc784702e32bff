// Certificate (portico.io/v1alpha1, namespaced): a TLS certificate Portico obtains over ACME and
// keeps in a kubernetes.io/tls Secret. The CRD is crds/certificate.yaml. The order in progress
// lives in status, so every replica can serve its HTTP-01 tokens and a restarted leader resumes
// it instead of starting another.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "crds/conditions.h"
#include "crds/meta.h"

namespace portico::crds {

struct CertificatePrivateKey {
  std::string algorithm = "ECDSA";         // ECDSA | RSA | Ed25519
  int64_t size = 0;                        // ECDSA 256/384, RSA 2048/3072/4096; 0 = default
  std::string rotation_policy = "Always";  // Always | Never
  bool operator==(const CertificatePrivateKey&) const = default;
};

struct CertificateSpec {
  std::string secret_name;
  std::vector<std::string> dns_names;
  std::string issuer;  // the IngressClassConfig whose spec.acme issues; "" = the served class's
  std::optional<std::chrono::seconds> renew_before;
  std::optional<int64_t> renew_before_percentage;  // 1-99: renew when this share of life is left
  CertificatePrivateKey private_key;
  std::map<std::string, std::string> secret_labels;
  std::map<std::string, std::string> secret_annotations;
  bool operator==(const CertificateSpec&) const = default;
};

// One HTTP-01 challenge of the order in progress: what the proxy must answer.
struct PendingChallenge {
  std::string dns_name;
  std::string token;
  std::string key_authorization;
  std::string url;  // the challenge resource at the CA
  bool operator==(const PendingChallenge&) const = default;
};

struct OrderProgress {
  std::string url;
  std::string status;  // the CA's order status as last seen
  std::vector<std::string> dns_names;
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;
  std::vector<PendingChallenge> challenges;
  bool responded = false;       // the CA has been told to validate
  std::string next_key_secret;  // the Secret holding the key of the CSR sent with finalize
  bool operator==(const OrderProgress&) const = default;
};

struct CertificateStatus {
  std::vector<Condition> conditions;  // Ready, Issuing
  int64_t observed_generation = 0;
  std::string not_before, not_after, renewal_time;  // RFC 3339
  int64_t revision = 0;                             // certificates issued so far
  std::string last_failure_time;
  int64_t failed_issuance_attempts = 0;
  std::optional<OrderProgress> order;
};

// The Certificate's conditions (cert-manager's names).
inline constexpr const char* kConditionReady = "Ready";
inline constexpr const char* kConditionIssuing = "Issuing";

struct Certificate {
  ObjectMeta metadata;
  CertificateSpec spec;
  CertificateStatus status;
};

// Go-style durations as Kubernetes uses them: "720h", "90m", "1h30m", "45s".
std::optional<std::chrono::seconds> parseDuration(const std::string& text);
std::string formatDuration(std::chrono::seconds duration);

std::vector<std::string> validate(const CertificateSpec& spec);

void from_json(const Json& j, Certificate& out);
void to_json(Json& j, const Certificate& in);
void from_json(const Json& j, CertificateStatus& out);
void to_json(Json& j, const CertificateStatus& in);

}  // namespace portico::crds
