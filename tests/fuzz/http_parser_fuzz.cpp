// libFuzzer target: request and response heads, and chunked bodies fed in two pieces.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "operator/proxy/http_parser.h"

using namespace portico::proxy::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  MessageHead head;
  if (parseRequestHead(input, head) == ParseStatus::Complete) {
    // Every view must lie inside the input.
    for (size_t i = 0; i < head.header_count; ++i)
      if (head.headers[i].name.data() < input.data() ||
          head.headers[i].value.data() + head.headers[i].value.size() > input.data() + input.size())
        __builtin_trap();
    if (head.head_size > input.size()) __builtin_trap();
  }
  parseResponseHead(input, "GET", head);
  ChunkedDecoder decoder;
  size_t half = size / 2, total = 0;
  auto r = decoder.feed(input.substr(0, half), [&](std::string_view d) { total += d.size(); });
  if (r.status == ParseStatus::Incomplete)
    decoder.feed(input.substr(half), [&](std::string_view d) { total += d.size(); });
  if (total > size) __builtin_trap();
  return 0;
}
