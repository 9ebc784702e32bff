#include "operator/kube/watch_stream.h"

#include "operator/kube/api_error.h"

namespace portico::kube {

const char* watchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::Added: return "ADDED";
    case WatchEventType::Modified: return "MODIFIED";
    case WatchEventType::Deleted: return "DELETED";
    case WatchEventType::Bookmark: return "BOOKMARK";
    case WatchEventType::Error: return "ERROR";
  }
  return "?";
}

Expected<WatchEvent> WatchDecoder::decodeLine(std::string_view line) {
  auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return Status(ErrorCode::DecodeError,
                  "watch event is not a JSON object (" + std::to_string(line.size()) +
                      " bytes)");  // never the bytes: a Secret watch carries keys
  auto type = doc.find("type");
  auto object = doc.find("object");
  if (type == doc.end() || !type->is_string() || object == doc.end() || !object->is_object())
    return Status(ErrorCode::DecodeError, "watch event lacks type or object");
  WatchEvent event;
  const auto& t = type->get_ref<const std::string&>();
  if (t == "ADDED")
    event.type = WatchEventType::Added;
  else if (t == "MODIFIED")
    event.type = WatchEventType::Modified;
  else if (t == "DELETED")
    event.type = WatchEventType::Deleted;
  else if (t == "BOOKMARK")
    event.type = WatchEventType::Bookmark;
  else if (t == "ERROR")
    event.type = WatchEventType::Error;
  else
    return Status(ErrorCode::DecodeError, "unknown watch event type \"" + t + "\"");
  event.object = std::move(*object);
  return event;
}

Status WatchDecoder::feed(std::string_view data, std::vector<WatchEvent>& out) {
  buffer_.append(data);
  size_t start = 0;
  while (true) {
    size_t newline = buffer_.find('\n', start);
    if (newline == std::string::npos) break;
    std::string_view line(buffer_.data() + start, newline - start);
    start = newline + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    auto event = decodeLine(line);
    if (!event) {
      buffer_.erase(0, start);
      return event.error();
    }
    out.push_back(std::move(*event));
  }
  buffer_.erase(0, start);
  return Status::ok();
}

Status statusFromWatchError(const nlohmann::json& object) {
  // A Status's code is an integer; anything else (a string, a float, out of range) is a
  // malformed error that must not throw: it counts as a server error.
  int code = 500;
  if (auto it = object.find("code"); it != object.end() && it->is_number_integer() &&
                                     it->get<int64_t>() >= 100 && it->get<int64_t>() <= 599)
    code = static_cast<int>(it->get<int64_t>());
  return statusFromApi(code, object.dump());
}

}  // namespace portico::kube
