// RFC 3339 timestamps as Kubernetes writes them: metav1.Time "2026-11-26T13:00:00Z" and
// metav1.MicroTime "2026-11-26T13:00:00.123456Z".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace portico {

using WallTime = std::chrono::system_clock::time_point;

std::string formatRfc3339(WallTime time);       // seconds precision
std::string formatRfc3339Micro(WallTime time);  // microseconds precision
// Accepts fractional seconds of any length and a "Z" or ±hh:mm offset.
std::optional<WallTime> parseRfc3339(std::string_view text);

}  // namespace portico
