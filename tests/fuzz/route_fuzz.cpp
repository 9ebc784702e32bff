// libFuzzer target: host and path normalization, route lookup, and snapshot payload decoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "operator/proxy/route_table.h"
#include "operator/proxy/snapshot_codec.h"

using namespace portico::proxy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static const RouteTable table({{"b", {{"127.0.0.1", 1}}, ""}},
                                {{"a.example", "/admin", PathMatch::Prefix, 0, {}, "r"},
                                 {"", "/", PathMatch::Exact, 0, {}, "r"}},
                                0, {}, -1, {}, {});
  std::string host, path;
  auto split = input.find('\n');
  if (normalizeHost(input.substr(0, split), host) && split != std::string_view::npos &&
      normalizePath(input.substr(split + 1), path)) {
    if (path.empty() || path[0] != '/') __builtin_trap();
    if (path.find("//") != std::string::npos || path.find("/../") != std::string::npos)
      __builtin_trap();
    table.match(host, path);
  }
  auto decoded = snapshot::decode(input);
  if (decoded) snapshot::encode(*decoded);
  return 0;
}
