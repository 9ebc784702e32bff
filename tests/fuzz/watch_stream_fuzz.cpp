// libFuzzer target: the Kubernetes watch stream decoder, fed the input in fuzzer-chosen pieces
// (chunk boundaries fall anywhere), and the metav1.Status of ERROR events.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "operator/kube/watch_stream.h"

using namespace portico::kube;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t step = 1 + data[0] % 64;  // the first byte picks the chunk size
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  for (size_t i = 0; i < input.size(); i += step) {
    if (!decoder.feed(input.substr(i, step), events)) break;  // corrupt: the caller re-watches
  }
  for (const auto& event : events)
    if (event.type == WatchEventType::Error) (void)statusFromWatchError(event.object);
  return 0;
}
