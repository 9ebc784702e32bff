// RFC 8555 §6.7 errors: problem documents (RFC 7807, application/problem+json) as values, with
// the Retry-After the server sent (RFC 8555 §6.6 rate limits, §7.5.1 polling).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "operator/base/http_transport.h"
#include "operator/base/status.h"

namespace portico::acme {

inline constexpr const char* kErrorPrefix = "urn:ietf:params:acme:error:";

struct AcmeProblem {
  std::string type;  // full URN, e.g. urn:ietf:params:acme:error:badNonce
  std::string detail;
  int status = 0;
  std::optional<std::chrono::seconds> retry_after;
  std::vector<AcmeProblem> subproblems;

  // "badNonce" for ACME's own types, the full type otherwise.
  std::string shortType() const;
  bool is(const char* short_type) const { return shortType() == short_type; }
  std::string describe() const;  // "rateLimited: too many orders (retry after 60 s)"
};

// The problem document of an error response; a non-problem error body still yields a problem
// ("about:blank" with the status and a short excerpt).
AcmeProblem problemFrom(const HttpResponse& response);
// Retry-After in seconds or as an HTTP-date (RFC 9110 §10.2.3), relative to `now`.
std::optional<std::chrono::seconds> parseRetryAfter(const std::string& value,
                                                    std::chrono::system_clock::time_point now);

// As a Status: rate limits are TooManyRequests and server errors Unavailable (retried with
// backoff); problems a retry cannot fix (malformed, rejectedIdentifier, ...) are InvalidArgument.
Status toStatus(const AcmeProblem& problem);

}  // namespace portico::acme
