#include "operator/proxy/proxy_stats.h"

#include "operator/base/thread_annotations.h"
#include "operator/proxy/route_table.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>

namespace portico::proxy {

std::string_view upstreamErrorName(UpstreamError error) {
  switch (error) {
    case UpstreamError::ConnectFailed: return "connect_failed";
    case UpstreamError::Timeout: return "timeout";
    case UpstreamError::BadResponse: return "bad_response";
  }
  return "other";
}

std::string_view handshakeFailureName(HandshakeFailure failure) {
  switch (failure) {
    case HandshakeFailure::ClientClosed: return "client_closed";
    case HandshakeFailure::ProtocolVersion: return "protocol_version";
    case HandshakeFailure::NoSharedCipher: return "no_shared_cipher";
    case HandshakeFailure::PlainHttp: return "plain_http";
    case HandshakeFailure::CertificateUnknown: return "certificate_rejected";
    case HandshakeFailure::NoCertificate: return "no_certificate";
    case HandshakeFailure::Other: return "other";
  }
  return "other";
}

HandshakeFailure classifyHandshakeFailure(int ssl_error, unsigned long queued_error) {
  if (queued_error == 0)  // nothing in the queue: the peer went away (SYSCALL/ZERO_RETURN)
    return HandshakeFailure::ClientClosed;
  (void)ssl_error;
  switch (ERR_GET_REASON(queued_error)) {
    case SSL_R_UNEXPECTED_EOF_WHILE_READING: return HandshakeFailure::ClientClosed;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION: return HandshakeFailure::ProtocolVersion;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM: return HandshakeFailure::NoSharedCipher;
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST: return HandshakeFailure::PlainHttp;
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA: return HandshakeFailure::CertificateUnknown;
    // The only fatal callback is the SNI one (tls_store.cpp): no certificate for the name.
    case SSL_R_CALLBACK_FAILED: return HandshakeFailure::NoCertificate;
    default: return HandshakeFailure::Other;
  }
}

void RequestSeries::record(int status, std::chrono::nanoseconds took) {
  size_t status_class = status >= 100 && status <= 599 ? static_cast<size_t>(status / 100 - 1) : 5;
  by_class[status_class].fetch_add(1, std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(took).count();
  size_t bucket = static_cast<size_t>(
      std::lower_bound(kRequestDurationBuckets.begin(), kRequestDurationBuckets.end(), seconds) -
      kRequestDurationBuckets.begin());
  buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  duration_sum_ns.fetch_add(static_cast<uint64_t>(std::max<int64_t>(took.count(), 0)),
                            std::memory_order_relaxed);
}

namespace {

// "ns/name rest" → {"ns", "name"}; "ns/service:port" → {"ns", "service"}.
std::pair<std::string_view, std::string_view> namespaceAndName(std::string_view text,
                                                               char end_of_name) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return {"", ""};
  std::string_view name = text.substr(slash + 1);
  return {text.substr(0, slash), name.substr(0, name.find(end_of_name))};
}

}  // namespace

std::string seriesKey(std::string_view route_source, std::string_view backend_name) {
  auto [ingress_namespace, ingress] = namespaceAndName(route_source, ' ');
  auto [service_namespace, service] = namespaceAndName(backend_name, ':');
  std::string_view ns = ingress_namespace.empty() ? service_namespace : ingress_namespace;
  std::string key;
  key.reserve(ns.size() + ingress.size() + service.size() + 2);
  key.append(ns).append(1, '\0').append(ingress).append(1, '\0').append(service);
  return key;
}

std::unordered_set<std::string> liveSeriesKeys(const RouteTable& table) {
  std::unordered_set<std::string> keys{seriesKey("", "")};
  const auto& backends = table.backends();
  for (const Route& route : table.routes())
    if (route.backend < backends.size())
      keys.insert(seriesKey(route.source, backends[route.backend].name));
  if (table.defaultBackend() >= 0 && static_cast<size_t>(table.defaultBackend()) < backends.size())
    keys.insert(seriesKey("", backends[static_cast<size_t>(table.defaultBackend())].name));
  return keys;
}

RequestSeriesPtr ProxyStats::series(std::string_view route_source, std::string_view backend_name) {
  std::string key = seriesKey(route_source, backend_name);
  MutexLock lock(mutex_);
  auto& slot = series_[key];
  if (!slot) {
    slot = std::make_shared<RequestSeries>();
    // The key is "ns\0ingress\0service".
    auto first = key.find('\0');
    auto second = key.find('\0', first + 1);
    slot->namespace_ = key.substr(0, first);
    slot->ingress = key.substr(first + 1, second - first - 1);
    slot->service = key.substr(second + 1);
  }
  return slot;
}

void ProxyStats::retainOnly(const std::unordered_set<std::string>& live) {
  MutexLock lock(mutex_);
  std::erase_if(series_, [&live](const auto& entry) { return !live.count(entry.first); });
}

void ProxyStats::forEachSeries(const std::function<void(const RequestSeries&)>& visit) const {
  MutexLock lock(mutex_);
  for (const auto& [key, series] : series_) visit(*series);
}

}  // namespace portico::proxy
