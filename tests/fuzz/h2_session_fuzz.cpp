// libFuzzer target: the HTTP/2 frame input path. Arbitrary bytes after the client preface, fed
// in pieces, to a session whose handler answers every request (body and trailers), passes on
// request bodies, and resets every third stream: nothing may crash, leak or grow unbounded.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "operator/proxy/h2_session.h"

using namespace portico;
using namespace portico::proxy::h2;

namespace {

struct Answering final : SessionHandler {
  ServerSession* session = nullptr;
  void onRequestHead(int32_t id, RequestHead head, bool) override {
    if (head.method.empty() || head.path.empty()) __builtin_trap();  // nghttp2 checked them
    if (id % 3 == 0) session->resetStream(id, 8);
  }
  void onRequestData(int32_t id, std::string_view data) override {
    session->consumed(id, data.size());
  }
  void onRequestEnd(int32_t id, Fields) override {
    if (session->respond(id, 200, {{"content-type", "text/plain"}}, false)) {
      session->sendData(id, std::string(100, 'x'));
      session->endResponse(id, {{"grpc-status", "0"}});
    }
  }
  void onStreamClosed(int32_t, uint32_t) override {}
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Answering handler;
  SessionLimits limits;
  limits.max_concurrent_streams = 16;
  SessionCounters counters;
  ServerSession session(handler, limits, counters);
  handler.session = &session;
  if (!session.valid()) return 0;
  std::string input = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  input.append(reinterpret_cast<const char*>(data), size);
  const Clock::MonoTime start{std::chrono::hours(1)};
  // Pieces of 1 to 64 bytes, sized by the input itself: frames split anywhere.
  size_t at = 0;
  int turn = 0;
  while (at < input.size()) {
    const size_t piece = 1 + static_cast<uint8_t>(input[at]) % 64;
    const std::string_view part = std::string_view(input).substr(at, piece);
    at += part.size();
    const bool go_on = session.receive(part, start + std::chrono::milliseconds(++turn));
    std::string out;
    session.produce(out, 1 << 20);
    if (session.openStreams() > limits.max_concurrent_streams + 1) __builtin_trap();
    if (!go_on) break;
  }
  return 0;
}
