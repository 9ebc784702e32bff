#include "controllers/certificate/policies.h"

#include <algorithm>
#include <set>

#include "operator/base/pem.h"
#include "operator/base/time_format.h"

namespace portico::controllers::certificate {

TimePoint renewalTime(TimePoint not_before, TimePoint not_after,
                      const crds::CertificateSpec& spec) {
  const auto lifetime = not_after - not_before;
  if (spec.renew_before) {
    auto before = std::min<std::chrono::system_clock::duration>(*spec.renew_before, lifetime);
    return not_after - before;
  }
  if (spec.renew_before_percentage)
    return not_after - lifetime * *spec.renew_before_percentage / 100;
  return not_before + lifetime * 2 / 3;
}

TimePoint renewalTime(TimePoint not_before, TimePoint not_after, const crds::CertificateSpec& spec,
                      std::optional<TimePoint> ca_renewal_time) {
  const TimePoint policy = renewalTime(not_before, not_after, spec);
  return ca_renewal_time ? std::min(policy, *ca_renewal_time) : policy;
}

TimePoint momentInWindow(TimePoint start, TimePoint end, std::string_view seed) {
  if (end <= start) return start;
  // FNV-1a: stable across builds and machines, unlike std::hash.
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : seed) hash = (hash ^ c) * 1099511628211ull;
  const auto span = std::chrono::duration_cast<std::chrono::seconds>(end - start).count();
  if (span <= 0) return start;
  return start + std::chrono::seconds(static_cast<int64_t>(hash % static_cast<uint64_t>(span)));
}

std::optional<Trigger> issuanceTrigger(const crds::Certificate& cert, const crds::Secret* secret,
                                       TimePoint now, std::optional<TimePoint> ca_renewal_time) {
  const std::string where = cert.metadata.namespace_ + "/" + cert.spec.secret_name;
  if (!secret) return Trigger{"SecretMissing", "Secret " + where + " does not exist"};
  const std::string* crt = secret->find("tls.crt");
  const std::string* key = secret->find("tls.key");
  if (!crt || !key)
    return Trigger{"SecretInvalid", "Secret " + where + " lacks tls.crt or tls.key"};
  auto pair = checkTlsPair(*crt, *key, now);
  if (!pair) return Trigger{"SecretInvalid", "Secret " + where + ": " + pair.error().message()};
  std::set<std::string> have(pair->dns_names.begin(), pair->dns_names.end());
  std::set<std::string> want;
  for (auto name : cert.spec.dns_names) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    want.insert(name);
  }
  if (have != want)
    return Trigger{"DNSNamesChanged",
                   "the certificate in " + where + " does not cover exactly spec.dnsNames"};
  const std::string requested = cert.metadata.annotation(kRenewAnnotation);
  if (!requested.empty() && requested != secret->metadata.annotation(kRenewAnnotation))
    return Trigger{"RenewalRequested",
                   "renewal requested (" + std::string(kRenewAnnotation) + ": " + requested + ")"};
  const TimePoint policy_time = renewalTime(pair->not_before, pair->not_after, cert.spec);
  if (now >= policy_time)
    return Trigger{"Renewing", "renewal time " + formatRfc3339(policy_time) + " reached"};
  if (ca_renewal_time && now >= *ca_renewal_time)
    return Trigger{"RenewalWindow", "the CA's suggested renewal window (RFC 9773 ARI) is open: " +
                                        formatRfc3339(*ca_renewal_time) + " reached"};
  return std::nullopt;
}

std::chrono::seconds failureBackoff(int64_t attempts, std::chrono::seconds base,
                                    std::chrono::seconds cap) {
  if (attempts <= 0) return std::chrono::seconds(0);
  auto delay = base;
  for (int64_t i = 1; i < attempts && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

}  // namespace portico::controllers::certificate
