// What the CA's renewalInfo (RFC 9773 ARI) says about each Certificate's current certificate:
// the moment picked in its suggested window, and when to ask again (the CA's Retry-After, within
// bounds). Kept in memory: after a restart the first reconcile asks once more.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "acme/client.h"
#include "operator/base/object_key.h"
#include "operator/base/thread_annotations.h"

namespace portico::controllers::certificate {

class RenewalInfoCache {
public:
  using TimePoint = std::chrono::system_clock::time_point;

  struct Entry {
    std::string cert_id;                // RFC 9773 §4.1 certID of the certificate asked about
    bool offered = false;               // the CA has a renewalInfo endpoint
    std::optional<TimePoint> renew_at;  // the moment picked in the window
    TimePoint window_start, window_end;
    std::string explanation_url;
    TimePoint next_check;
  };

  // The remembered entry for this certificate while it is not due for a new question.
  std::optional<Entry> fresh(const ObjectKey& certificate, const std::string& cert_id,
                             TimePoint now) const;
  // Any remembered entry for this certificate (e.g. for the newOrder "replaces" field).
  std::optional<Entry> known(const ObjectKey& certificate, const std::string& cert_id) const;
  // Asks the CA and remembers its answer. A failed question keeps the previous window for the
  // same certificate and asks again within the hour.
  Entry refresh(const ObjectKey& certificate, const std::string& cert_id,
                const std::string& leaf_pem, acme::AcmeClient& acme, TimePoint now);
  void forget(const ObjectKey& certificate);

private:
  mutable Mutex mutex_;
  std::map<ObjectKey, Entry> entries_ GUARDED_BY(mutex_);
};

}  // namespace portico::controllers::certificate
