// When a Certificate must be (re)issued, and when it will be (pure). The checks run in order and
// the first that fires is the reason given in the Issuing condition:
//   SecretMissing      the Secret does not exist
//   SecretInvalid      no tls.crt/tls.key, they do not parse, the key does not match, or expired
//   DNSNamesChanged    the certificate's names differ from spec.dnsNames
//   RenewalRequested   the Certificate's portico.io/renew annotation differs from the Secret's
//   Renewing           the renewal time is reached
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "crds/certificate.h"
#include "crds/secret.h"

namespace portico::controllers::certificate {

// Set on a Certificate (any new value) to renew now; copied to the Secret when issued.
inline constexpr const char* kRenewAnnotation = "portico.io/renew";
inline constexpr const char* kCertificateNameAnnotation = "portico.io/certificate-name";

struct Trigger {
  std::string reason;
  std::string message;
};

using TimePoint = std::chrono::system_clock::time_point;

std::optional<Trigger> issuanceTrigger(const crds::Certificate& cert, const crds::Secret* secret,
                                       TimePoint now);

// renewBefore when set; else renewBeforePercentage of the lifetime left; else 2/3 of the lifetime.
TimePoint renewalTime(TimePoint not_before, TimePoint not_after, const crds::CertificateSpec& spec);

// Delay before retrying after `attempts` failures: base, doubling, capped.
std::chrono::seconds failureBackoff(int64_t attempts, std::chrono::seconds base,
                                    std::chrono::seconds cap);

}  // namespace portico::controllers::certificate
