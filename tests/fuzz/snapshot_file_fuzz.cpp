// libFuzzer target: the snapshot reader on a corrupt file. A valid region is written once; each
// input overwrites bytes of a copy at fuzzer-chosen offsets (header, slot headers, payload) and
// the reader must reject or decode it without crashing, and keep the last good table.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "operator/proxy/snapshot_reader.h"
#include "operator/proxy/snapshot_writer.h"

using namespace portico::proxy;

namespace {

const std::string& pristineRegion(const std::string& path) {
  static const std::string region = [&] {
    RouteTable table({{"web/site:80", {{"127.0.0.1", 8080}}, ""}},
                     {{"a.example", "/", PathMatch::Prefix, 0, {}, "web/site rule 0 path 0"}}, 0,
                     {}, -1, {{"tok", "tok.thumb"}}, {});
    auto writer = SnapshotWriter::create(path);
    if (!writer || !(*writer)->publish(table)) std::abort();
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }();
  return region;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/portico-snapshot-fuzz-" + std::to_string(::getpid());
  std::string region = pristineRegion(path);
  // Input: repeated [u16 offset][u8 length][bytes] patches.
  size_t i = 0;
  while (i + 3 <= size) {
    size_t offset = (static_cast<size_t>(data[i]) << 8 | data[i + 1]) % region.size();
    size_t length = data[i + 2];
    i += 3;
    for (size_t k = 0; k < length && i < size; ++k, ++i)
      region[(offset + k) % region.size()] = static_cast<char>(data[i]);
  }
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(region.data(), static_cast<std::streamsize>(region.size()));
  }
  SnapshotReader reader(path);
  if (auto table = reader.poll()) table->match("a.example", "/x");
  return 0;
}
