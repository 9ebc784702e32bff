// ProxyStats: one worker's request, connection and TLS statistics. The worker's thread is the
// only writer (relaxed atomic adds: no lock, no contention on the hot path); a scrape reads
// them from another thread. Series are keyed by (namespace, ingress, service); a connection
// holds its request's series (shared), so the series of an Ingress that is gone can be dropped
// from the map while a last request still counts into it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "operator/base/thread_annotations.h"
#include "operator/proxy/h2_session.h"

namespace portico::proxy {

// Upper bounds (seconds) of the request-duration histogram buckets; +Inf is implied.
inline constexpr std::array<double, 13> kRequestDurationBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// Why an exchange with the upstream failed (the client got 502 or 504).
enum class UpstreamError : uint8_t {
  ConnectFailed,  // refused, unreachable, or every endpoint tried
  Timeout,        // connect, response or idle timeout
  BadResponse,    // closed, reset or malformed before a complete response head
};
inline constexpr size_t kUpstreamErrorKinds = 3;
std::string_view upstreamErrorName(UpstreamError error);

// Why a TLS handshake failed, in few enough kinds to be a label.
enum class HandshakeFailure : uint8_t {
  ClientClosed,     // EOF or reset mid-handshake (scanners, impatient clients)
  ProtocolVersion,  // no TLS version in common (e.g. a TLS 1.0 client)
  NoSharedCipher,
  PlainHttp,           // an HTTP request sent to the TLS port
  CertificateUnknown,  // the client rejected our certificate (alert from the client)
  NoCertificate,       // no certificate for the SNI name and no default certificate
  Other,
};
inline constexpr size_t kHandshakeFailureKinds = 7;
std::string_view handshakeFailureName(HandshakeFailure failure);
// Classifies the OpenSSL error queue's first error (and errno for SSL_ERROR_SYSCALL).
HandshakeFailure classifyHandshakeFailure(int ssl_error, unsigned long queued_error);

struct RequestSeries {
  std::string namespace_;  // "" for requests no Ingress served (404, ACME, malformed)
  std::string ingress;
  std::string service;
  std::array<std::atomic<uint64_t>, 6> by_class{};  // 1xx..5xx, then anything else
  std::array<std::atomic<uint64_t>, kRequestDurationBuckets.size() + 1>
      buckets{};  // not cumulative
  std::atomic<uint64_t> duration_sum_ns{0};
  std::array<std::atomic<uint64_t>, kUpstreamErrorKinds> upstream_errors{};

  void record(int status, std::chrono::nanoseconds took);
  void countUpstreamError(UpstreamError error) {
    upstream_errors[static_cast<size_t>(error)].fetch_add(1, std::memory_order_relaxed);
  }
};

using RequestSeriesPtr = std::shared_ptr<RequestSeries>;

// The key of a series: `route_source` is Route::source ("ns/ingress rule R path P"),
// `backend_name` Backend::name ("ns/service:port"); either may be empty.
std::string seriesKey(std::string_view route_source, std::string_view backend_name);

class RouteTable;
// The keys of every series `table` can produce (its routes, its default backend, unrouted).
std::unordered_set<std::string> liveSeriesKeys(const RouteTable& table);

class ProxyStats {
public:
  // Worker thread: the series for a request (created on first use).
  RequestSeriesPtr series(std::string_view route_source, std::string_view backend_name);
  // Any thread: drops the series whose key is not in `live` (Ingresses or Services gone), so
  // /metrics does not keep them forever.
  void retainOnly(const std::unordered_set<std::string>& live);

  void connectionOpened() { active_connections_.fetch_add(1, std::memory_order_relaxed); }
  void connectionClosed() { active_connections_.fetch_sub(1, std::memory_order_relaxed); }
  void countHandshake(bool resumed) {
    (resumed ? resumed_handshakes_ : full_handshakes_).fetch_add(1, std::memory_order_relaxed);
  }
  // The worker ran out of file descriptors (or socket memory) and rested its listeners.
  void countAcceptPause() { accept_pauses_.fetch_add(1, std::memory_order_relaxed); }
  void countHandshakeFailure(HandshakeFailure failure) {
    handshake_failures_[static_cast<size_t>(failure)].fetch_add(1, std::memory_order_relaxed);
  }

  // Requests answered, by the protocol the client spoke.
  enum class Protocol : uint8_t { Http1, Http2 };
  void countRequest(Protocol protocol) {
    requests_by_protocol_[static_cast<size_t>(protocol)].fetch_add(1, std::memory_order_relaxed);
  }
  void http2ConnectionOpened() { http2_connections_.fetch_add(1, std::memory_order_relaxed); }
  void http2StreamsOpen(int64_t delta) {
    active_streams_.fetch_add(delta, std::memory_order_relaxed);
  }
  // The worker's HTTP/2 sessions count into this (streams, resets, GOAWAYs, defences).
  h2::SessionCounters& http2() { return http2_; }

  // Any thread.
  uint64_t requests(Protocol protocol) const {
    return requests_by_protocol_[static_cast<size_t>(protocol)].load(std::memory_order_relaxed);
  }
  uint64_t http2Connections() const { return http2_connections_.load(std::memory_order_relaxed); }
  int64_t http2ActiveStreams() const { return active_streams_.load(std::memory_order_relaxed); }
  const h2::SessionCounters& http2() const { return http2_; }
  void forEachSeries(const std::function<void(const RequestSeries&)>& visit) const;
  int64_t activeConnections() const { return active_connections_.load(std::memory_order_relaxed); }
  uint64_t fullHandshakes() const { return full_handshakes_.load(std::memory_order_relaxed); }
  uint64_t resumedHandshakes() const { return resumed_handshakes_.load(std::memory_order_relaxed); }
  uint64_t acceptPauses() const { return accept_pauses_.load(std::memory_order_relaxed); }
  uint64_t handshakeFailures(HandshakeFailure failure) const {
    return handshake_failures_[static_cast<size_t>(failure)].load(std::memory_order_relaxed);
  }

private:
  mutable Mutex mutex_;  // the map's structure: the worker inserts, a scrape iterates
  std::unordered_map<std::string, RequestSeriesPtr> series_ GUARDED_BY(mutex_);
  std::atomic<int64_t> active_connections_{0};
  std::atomic<uint64_t> full_handshakes_{0};
  std::atomic<uint64_t> resumed_handshakes_{0};
  std::atomic<uint64_t> accept_pauses_{0};
  std::array<std::atomic<uint64_t>, kHandshakeFailureKinds> handshake_failures_{};
  std::array<std::atomic<uint64_t>, 2> requests_by_protocol_{};
  std::atomic<uint64_t> http2_connections_{0};
  std::atomic<int64_t> active_streams_{0};
  h2::SessionCounters http2_;
};

}  // namespace portico::proxy
