#include "controllers/certificate/renewal_info.h"

#include <algorithm>

#include "controllers/certificate/policies.h"
#include "operator/base/log.h"
#include "operator/base/thread_annotations.h"
#include "operator/base/time_format.h"

namespace portico::controllers::certificate {

using namespace std::chrono_literals;

namespace {
// RFC 9773 §4.3: follow Retry-After, but neither hammer the CA nor go quiet for days.
constexpr auto kMinRecheck = 1min;
constexpr auto kDefaultRecheck = 6h;
constexpr auto kMaxRecheck = 24h;
constexpr auto kRecheckAfterError = 1h;
}  // namespace

std::optional<RenewalInfoCache::Entry> RenewalInfoCache::fresh(const ObjectKey& certificate,
                                                               const std::string& cert_id,
                                                               TimePoint now) const {
  auto entry = known(certificate, cert_id);
  if (!entry || now >= entry->next_check) return std::nullopt;
  return entry;
}

std::optional<RenewalInfoCache::Entry> RenewalInfoCache::known(const ObjectKey& certificate,
                                                               const std::string& cert_id) const {
  MutexLock lock(mutex_);
  auto it = entries_.find(certificate);
  if (it == entries_.end() || it->second.cert_id != cert_id) return std::nullopt;
  return it->second;
}

RenewalInfoCache::Entry RenewalInfoCache::refresh(const ObjectKey& certificate,
                                                  const std::string& cert_id,
                                                  const std::string& leaf_pem,
                                                  acme::AcmeClient& acme, TimePoint now) {
  Entry entry = known(certificate, cert_id).value_or(Entry{});
  entry.cert_id = cert_id;
  auto window = acme.renewalInfo(leaf_pem);
  if (window) {
    entry.offered = true;
    entry.window_start = window->start;
    entry.window_end = window->end;
    entry.explanation_url = window->explanation_url;
    entry.renew_at = momentInWindow(window->start, window->end, cert_id);
    entry.next_check =
        now + std::clamp<std::chrono::seconds>(window->retry_after.value_or(kDefaultRecheck),
                                               kMinRecheck, kMaxRecheck);
    log::info("ACME renewal window", {{"certificate", certificate.toString()},
                                      {"start", formatRfc3339(window->start)},
                                      {"end", formatRfc3339(window->end)},
                                      {"renewAt", formatRfc3339(*entry.renew_at)}});
  } else if (window.error().code() == ErrorCode::NotFound && !entry.offered) {
    entry.next_check = now + kMaxRecheck;  // the CA offers no ARI (or does not know the cert)
  } else {
    log::warn("ACME renewalInfo failed",
              {{"certificate", certificate.toString()}, {"error", window.error().message()}});
    entry.next_check = now + kRecheckAfterError;
  }
  MutexLock lock(mutex_);
  entries_[certificate] = entry;
  return entry;
}

void RenewalInfoCache::forget(const ObjectKey& certificate) {
  MutexLock lock(mutex_);
  entries_.erase(certificate);
}

}  // namespace portico::controllers::certificate
