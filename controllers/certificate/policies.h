// When a Certificate must be (re)issued, and when it will be (pure). The checks run in order and
// the first that fires is the reason given in the Issuing condition:
//   SecretMissing      the Secret does not exist
//   SecretInvalid      no tls.crt/tls.key, they do not parse, the key does not match, or expired
//   DNSNamesChanged    the certificate's names differ from spec.dnsNames
//   RenewalRequested   the Certificate's portico.io/renew annotation differs from the Secret's
//   Renewing           the renewal time is reached
//   RenewalWindow      the moment picked in the CA's ARI window (RFC 9773) is reached first
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

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

// `ca_renewal_time`: the moment picked in the CA's ARI window (RFC 9773), when it offers one.
std::optional<Trigger> issuanceTrigger(const crds::Certificate& cert, const crds::Secret* secret,
                                       TimePoint now,
                                       std::optional<TimePoint> ca_renewal_time = std::nullopt);

// renewBefore when set; else renewBeforePercentage of the lifetime left; else 2/3 of the lifetime.
TimePoint renewalTime(TimePoint not_before, TimePoint not_after, const crds::CertificateSpec& spec);

// The renewal time in force: the policy's, or the CA's suggested moment when that is earlier (a
// CA that must revoke early moves its window forward; the user's renewBefore stays a bound).
TimePoint renewalTime(TimePoint not_before, TimePoint not_after, const crds::CertificateSpec& spec,
                      std::optional<TimePoint> ca_renewal_time);

// RFC 9773 §4.2: renew at a uniformly distributed moment inside the CA's suggested window. The
// moment is derived from `seed` (the ARI certID), so every replica and every restart picks the
// same one and a re-fetched, unchanged window does not move it.
TimePoint momentInWindow(TimePoint start, TimePoint end, std::string_view seed);

// Delay before retrying after `attempts` failures: base, doubling, capped.
std::chrono::seconds failureBackoff(int64_t attempts, std::chrono::seconds base,
                                    std::chrono::seconds cap);

}  // namespace portico::controllers::certificate
