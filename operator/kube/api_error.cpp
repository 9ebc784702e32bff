#include "operator/kube/api_error.h"

#include <nlohmann/json.hpp>

namespace portico::kube {

ErrorCode errorCodeForHttp(int http_status, const std::string& reason) {
  if (reason == "AlreadyExists") return ErrorCode::AlreadyExists;
  if (reason == "Expired" || reason == "Gone") return ErrorCode::Gone;
  switch (http_status) {
    case 400: return ErrorCode::InvalidArgument;
    case 401: return ErrorCode::Unauthorized;
    case 403: return ErrorCode::Forbidden;
    case 404: return ErrorCode::NotFound;
    case 409: return ErrorCode::Conflict;
    case 410: return ErrorCode::Gone;
    case 422: return ErrorCode::Invalid;
    case 429: return ErrorCode::TooManyRequests;
    case 504: return ErrorCode::Timeout;
    default: break;
  }
  if (http_status >= 500) return ErrorCode::Unavailable;
  return ErrorCode::Internal;
}

Status statusFromApi(int http_status, const std::string& body) {
  std::string reason;
  std::string message;
  int retry_after = -1;
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded() && doc.is_object() && doc.value("kind", "") == "Status") {
    reason = doc.value("reason", "");
    message = doc.value("message", "");
    if (auto details = doc.find("details"); details != doc.end() && details->is_object())
      retry_after = details->value("retryAfterSeconds", -1);
    if (http_status == 0) http_status = doc.value("code", 500);
  } else {
    message = body.substr(0, 512);
  }
  if (message.empty()) message = "HTTP " + std::to_string(http_status);
  Status status(errorCodeForHttp(http_status, reason), message);
  status.withHttp(http_status, reason);
  if (retry_after >= 0) status.withRetryAfter(retry_after);
  return status;
}

}  // namespace portico::kube
