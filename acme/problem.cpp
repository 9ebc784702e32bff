#include "acme/problem.h"

#include <nlohmann/json.hpp>

#include <ctime>

namespace portico::acme {

std::string AcmeProblem::shortType() const {
  const std::string prefix = kErrorPrefix;
  return type.rfind(prefix, 0) == 0 ? type.substr(prefix.size()) : type;
}

std::string AcmeProblem::describe() const {
  std::string out = shortType() + ": " + detail;
  for (const auto& sub : subproblems) out += "; " + sub.shortType() + ": " + sub.detail;
  if (retry_after) out += " (retry after " + std::to_string(retry_after->count()) + " s)";
  return out;
}

std::optional<std::chrono::seconds> parseRetryAfter(const std::string& value,
                                                    std::chrono::system_clock::time_point now) {
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string::npos && value.size() < 10)
    return std::chrono::seconds(std::stol(value));
  std::tm tm{};
  if (!strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return std::nullopt;
  auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
  auto delta = std::chrono::duration_cast<std::chrono::seconds>(when - now);
  return delta.count() > 0 ? delta : std::chrono::seconds(0);
}

namespace {
AcmeProblem fromJson(const nlohmann::json& j) {
  AcmeProblem p;
  p.type = j.value("type", "about:blank");
  p.detail = j.value("detail", "");
  p.status = j.value("status", 0);
  if (auto subs = j.find("subproblems"); subs != j.end() && subs->is_array())
    for (const auto& sub : *subs)
      if (sub.is_object()) p.subproblems.push_back(fromJson(sub));
  return p;
}
}  // namespace

AcmeProblem problemFrom(const HttpResponse& response) {
  AcmeProblem p;
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("type")) {
    p = fromJson(body);
  } else {
    p.type = "about:blank";
    p.detail = "HTTP " + std::to_string(response.status) + ": " + response.body.substr(0, 200);
  }
  if (p.status == 0) p.status = response.status;
  p.retry_after = parseRetryAfter(response.header("Retry-After"), std::chrono::system_clock::now());
  return p;
}

Status toStatus(const AcmeProblem& problem) {
  const std::string t = problem.shortType();
  ErrorCode code = ErrorCode::InvalidArgument;
  if (t == "rateLimited" || problem.status == 429)
    code = ErrorCode::TooManyRequests;
  else if (t == "serverInternal" || t == "badNonce" || problem.status >= 500)
    code = ErrorCode::Unavailable;
  else if (t == "unauthorized")
    code = ErrorCode::Unauthorized;
  else if (t == "accountDoesNotExist")
    code = ErrorCode::NotFound;
  else if (t == "orderNotReady")
    code = ErrorCode::Conflict;
  return Status(code, "ACME " + problem.describe());
}

}  // namespace portico::acme
