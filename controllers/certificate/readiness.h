// The Certificate's Ready condition and validity fields, from the Secret (pure): Ready=True while
// the Secret holds a valid certificate for spec.dnsNames (a renewal due is not a fault), else
// False with the trigger's reason; notBefore, notAfter and renewalTime from the certificate.
#pragma once

#include <optional>

#include "controllers/certificate/policies.h"

namespace portico::controllers::certificate {

void updateReadiness(crds::Certificate& cert, const crds::Secret* secret, TimePoint now,
                     std::optional<TimePoint> ca_renewal_time);

}  // namespace portico::controllers::certificate
