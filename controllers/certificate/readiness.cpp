#include "controllers/certificate/readiness.h"

#include "controllers/certificate/policies.h"
#include "operator/base/pem.h"
#include "operator/base/time_format.h"

namespace portico::controllers::certificate {

void updateReadiness(crds::Certificate& cert, const crds::Secret* secret, TimePoint now,
                     std::optional<TimePoint> ca_renewal_time) {
  auto trigger = issuanceTrigger(cert, secret, now, ca_renewal_time);
  crds::Condition ready{"Ready", "True", "Ready", "", "", cert.metadata.generation};
  const std::string* crt = secret ? secret->find("tls.crt") : nullptr;
  const std::string* key = secret ? secret->find("tls.key") : nullptr;
  auto pair = crt && key ? checkTlsPair(*crt, *key, now)
                         : Expected<CertificateInfo>(Status(ErrorCode::NotFound, ""));
  if (pair) {
    cert.status.not_before = formatRfc3339(pair->not_before);
    cert.status.not_after = formatRfc3339(pair->not_after);
    cert.status.renewal_time =
        formatRfc3339(renewalTime(pair->not_before, pair->not_after, cert.spec, ca_renewal_time));
  }
  if (trigger && (trigger->reason == "SecretMissing" || trigger->reason == "SecretInvalid" ||
                  trigger->reason == "DNSNamesChanged")) {
    ready.status = "False";
    ready.reason = trigger->reason;
    ready.message = trigger->message;
  } else {
    ready.message = "the certificate in Secret " + cert.spec.secret_name + " is valid until " +
                    cert.status.not_after;
  }
  crds::setCondition(cert.status.conditions, ready, formatRfc3339(now));
}

}  // namespace portico::controllers::certificate
