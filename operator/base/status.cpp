#include "operator/base/status.h"

namespace portico {

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::Ok: return "Ok";
    case ErrorCode::InvalidArgument: return "InvalidArgument";
    case ErrorCode::NotFound: return "NotFound";
    case ErrorCode::AlreadyExists: return "AlreadyExists";
    case ErrorCode::Conflict: return "Conflict";
    case ErrorCode::Gone: return "Gone";
    case ErrorCode::Unauthorized: return "Unauthorized";
    case ErrorCode::Forbidden: return "Forbidden";
    case ErrorCode::Invalid: return "Invalid";
    case ErrorCode::TooManyRequests: return "TooManyRequests";
    case ErrorCode::Timeout: return "Timeout";
    case ErrorCode::Unavailable: return "Unavailable";
    case ErrorCode::Cancelled: return "Cancelled";
    case ErrorCode::DecodeError: return "DecodeError";
    case ErrorCode::Internal: return "Internal";
  }
  return "Unknown";
}

std::string Status::toString() const {
  if (isOk()) return "Ok";
  std::string out = errorCodeName(code_);
  if (http_status_ != 0) out += " (HTTP " + std::to_string(http_status_) + ")";
  if (!message_.empty()) out += ": " + message_;
  return out;
}

}  // namespace portico
