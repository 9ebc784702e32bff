// Decodes a Kubernetes watch response body: a chunked stream of JSON objects, one per line,
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}. Chunk boundaries fall
// anywhere, so bytes are buffered until a whole line is there.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "operator/base/status.h"

namespace portico::kube {

enum class WatchEventType { Added, Modified, Deleted, Bookmark, Error };

const char* watchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::Added;
  nlohmann::json object;
};

class WatchDecoder {
public:
  // Feeds bytes; appends every complete event to `out`. A line that is not a valid event is a
  // DecodeError (the stream is corrupt: the caller drops it and re-watches).
  Status feed(std::string_view data, std::vector<WatchEvent>& out);

  // Bytes of an unfinished line still buffered.
  size_t pending() const { return buffer_.size(); }

  // Decodes one line (without the newline).
  static Expected<WatchEvent> decodeLine(std::string_view line);

private:
  std::string buffer_;
};

// A watch ERROR event carries a metav1.Status: turn it into a Status (410 → Gone).
Status statusFromWatchError(const nlohmann::json& object);

}  // namespace portico::kube
