// h2::ServerSession against nghttp2's own client session, in memory: requests, bodies with
// flow control both ways, trailers, limits, graceful shutdown, and each published HTTP/2 attack
// mounted (with raw frames where a well-behaved client library would refuse to send them).
#include <doctest/doctest.h>

#include <nghttp2/nghttp2.h>

#include <cstring>
#include <functional>
#include <map>

#include "operator/proxy/h2_session.h"

using namespace portico;
using namespace portico::proxy::h2;

namespace {

const Clock::MonoTime kStart{std::chrono::hours(1)};

// What the proxy side saw, and how it answers (by default: not at all).
struct Recorder final : SessionHandler {
  struct Seen {
    RequestHead head;
    std::string body;
    bool ended = false;
    Fields trailers;
    bool closed = false;
    uint32_t error = 0;
  };
  std::map<int32_t, Seen> streams;
  int heads = 0;
  std::function<void(int32_t)> on_end;  // e.g. respond once the request is complete
  bool consume_at_once = true;

  ServerSession* session = nullptr;
  void onRequestHead(int32_t id, RequestHead head, bool) override {
    ++heads;
    streams[id].head = std::move(head);
  }
  void onRequestData(int32_t id, std::string_view data) override {
    streams[id].body.append(data);
    if (consume_at_once) session->consumed(id, data.size());
  }
  void onRequestEnd(int32_t id, Fields trailers) override {
    streams[id].ended = true;
    streams[id].trailers = std::move(trailers);
    if (on_end) on_end(id);
  }
  void onStreamClosed(int32_t id, uint32_t error) override {
    streams[id].closed = true;
    streams[id].error = error;
  }
};

// nghttp2's client, with what it received per stream.
class Client {
public:
  struct Response {
    int status = 0;
    std::vector<int> statuses;  // every :status received, interim ones first
    Fields headers;
    Fields trailers;
    std::string body;
    bool closed = false;
    uint32_t error = 0;
  };
  std::map<int32_t, Response> responses;
  std::vector<uint32_t> goaways;  // error codes of the GOAWAYs received
  int32_t goaway_last_stream = -1;

  explicit Client(uint32_t initial_window = 65535, bool auto_window = true) {
    nghttp2_session_callbacks* callbacks;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onData);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onClose);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrame);
    nghttp2_option* option;
    nghttp2_option_new(&option);
    if (!auto_window) nghttp2_option_set_no_auto_window_update(option, 1);
    nghttp2_session_client_new2(&session_, callbacks, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, initial_window}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 1);
  }
  ~Client() { nghttp2_session_del(session_); }

  int32_t request(const std::string& method, const std::string& path, Fields extra = {},
                  const std::string* body = nullptr) {
    Fields all = {
        {":method", method}, {":scheme", "https"}, {":authority", "app.test"}, {":path", path}};
    for (auto& field : extra) all.push_back(field);
    std::vector<nghttp2_nv> nva = toNva(all);
    nghttp2_data_provider provider{};
    provider.source.ptr = const_cast<std::string*>(body);
    provider.read_callback = readBody;
    return nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                  body ? &provider : nullptr, this);
  }
  // A HEADERS frame exactly as given (a new stream with `stream` -1, else trailers).
  int32_t headers(Fields fields, uint8_t flags = NGHTTP2_FLAG_NONE, int32_t stream = -1) {
    std::vector<nghttp2_nv> nva = toNva(fields);
    return nghttp2_submit_headers(session_, flags, stream, nullptr, nva.data(), nva.size(),
                                  nullptr);
  }
  void reset(int32_t id) { nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, 8); }
  void consume(int32_t id, size_t n) { nghttp2_session_consume(session_, id, n); }
  nghttp2_session* raw() { return session_; }

  std::string output() {
    std::string out;
    for (;;) {
      const uint8_t* data;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) return out;
      out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
  }
  void input(const std::string& bytes) {
    nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                             bytes.size());
  }

private:
  static std::vector<nghttp2_nv> toNva(Fields& fields) {
    std::vector<nghttp2_nv> nva;
    for (auto& f : fields)
      nva.push_back({reinterpret_cast<uint8_t*>(f.name.data()),
                     reinterpret_cast<uint8_t*>(f.value.data()), f.name.size(), f.value.size(),
                     NGHTTP2_NV_FLAG_NONE});
    return nva;
  }
  static Client& self(void* user) { return *static_cast<Client*>(user); }
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t name_len, const uint8_t* value, size_t value_len, uint8_t,
                      void* user) {
    Response& r = self(user).responses[frame->hd.stream_id];
    std::string n(reinterpret_cast<const char*>(name), name_len);
    std::string v(reinterpret_cast<const char*>(value), value_len);
    if (n == ":status") {
      r.status = std::stoi(v);
      r.statuses.push_back(r.status);
    } else if (r.status / 100 == 1)
      r.headers.push_back({n, v});
    else if (frame->headers.cat == NGHTTP2_HCAT_HEADERS)
      r.trailers.push_back({n, v});
    else
      r.headers.push_back({n, v});
    return 0;
  }
  static int onData(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len,
                    void* user) {
    self(user).responses[id].body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int onClose(nghttp2_session*, int32_t id, uint32_t error, void* user) {
    self(user).responses[id].closed = true;
    self(user).responses[id].error = error;
    return 0;
  }
  static int onFrame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      self(user).goaways.push_back(frame->goaway.error_code);
      self(user).goaway_last_stream = frame->goaway.last_stream_id;
    }
    return 0;
  }
  static ssize_t readBody(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                          nghttp2_data_source* source, void*) {
    auto* body = static_cast<std::string*>(source->ptr);
    size_t& offset = offsets_[body];
    size_t n = std::min(length, body->size() - offset);
    std::memcpy(buf, body->data() + offset, n);
    offset += n;
    if (offset == body->size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  static inline std::map<const std::string*, size_t> offsets_;
  nghttp2_session* session_ = nullptr;
};

// Moves bytes both ways until neither side has anything to say (bounded).
void pump(Client& client, ServerSession& server, Clock::MonoTime now = kStart) {
  for (int round = 0; round < 1000; ++round) {
    std::string up = client.output();
    if (!up.empty()) (void)server.receive(up, now);
    std::string down;
    server.produce(down, SIZE_MAX);
    if (!down.empty()) client.input(down);
    if (up.empty() && down.empty()) return;
  }
  FAIL("pump did not settle");
}

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string out;
  const size_t n = payload.size();
  out += static_cast<char>((n >> 16) & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>(type);
  out += static_cast<char>(flags);
  out += static_cast<char>((stream >> 24) & 0x7f);
  out += static_cast<char>((stream >> 16) & 0xff);
  out += static_cast<char>((stream >> 8) & 0xff);
  out += static_cast<char>(stream & 0xff);
  return out + payload;
}
const std::string kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Whether the server's bytes hold a GOAWAY with `code` (frames walked one by one).
bool hasGoaway(const std::string& bytes, uint32_t code) {
  for (size_t at = 0; at + 9 <= bytes.size();) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + at);
    const size_t length = (size_t{p[0]} << 16) | (size_t{p[1]} << 8) | p[2];
    if (p[3] == NGHTTP2_GOAWAY && length >= 8 && at + 9 + length <= bytes.size()) {
      const uint8_t* e = p + 9 + 4;
      if (((uint32_t{e[0]} << 24) | (uint32_t{e[1]} << 16) | (uint32_t{e[2]} << 8) | e[3]) == code)
        return true;
    }
    at += 9 + length;
  }
  return false;
}

struct Fixture {
  Recorder recorder;
  SessionLimits limits;
  SessionCounters counters;
  std::unique_ptr<ServerSession> server;
  explicit Fixture(SessionLimits l = {}) : limits(l) {
    server = std::make_unique<ServerSession>(recorder, limits, counters);
    recorder.session = server.get();
    REQUIRE(server->valid());
  }
};

}  // namespace

TEST_CASE("h2 session: a request's head, its answer with a body and trailers") {
  Fixture f;
  Client client;
  const int32_t id =
      client.request("GET", "/api/items?x=1", {{"x-test", "yes"}, {"cookie", "a=1"}});
  pump(client, *f.server);
  REQUIRE(f.recorder.streams.count(id));
  const auto& seen = f.recorder.streams[id];
  CHECK(seen.head.method == "GET");
  CHECK(seen.head.scheme == "https");
  CHECK(seen.head.authority == "app.test");
  CHECK(seen.head.path == "/api/items?x=1");
  CHECK(seen.head.fields == Fields{{"x-test", "yes"}, {"cookie", "a=1"}});
  CHECK(seen.ended);

  REQUIRE(f.server->respond(id, 200, {{"content-type", "text/plain"}}, false));
  f.server->sendData(id, "hel");
  pump(client, *f.server);
  f.server->sendData(id, "lo");
  f.server->endResponse(id, {{"grpc-status", "0"}, {"grpc-message", "ok"}});
  pump(client, *f.server);
  const auto& response = client.responses[id];
  CHECK(response.status == 200);
  CHECK(response.headers == Fields{{"content-type", "text/plain"}});
  CHECK(response.body == "hello");
  CHECK(response.trailers == Fields{{"grpc-status", "0"}, {"grpc-message", "ok"}});
  CHECK(response.closed);
  CHECK(response.error == 0);
  CHECK(f.recorder.streams[id].closed);
  CHECK(f.server->openStreams() == 0);
}

TEST_CASE("h2 session: interim responses go ahead of the final one") {
  Fixture f;
  Client client;
  const int32_t id = client.request("GET", "/");
  pump(client, *f.server);
  CHECK(f.server->sendInterim(id, 103, {{"link", "</style.css>; rel=preload"}}));
  CHECK_FALSE(f.server->sendInterim(id, 200, {}));  // not interim
  REQUIRE(f.server->respond(id, 200, {}, true));
  CHECK_FALSE(f.server->sendInterim(id, 100, {}));  // too late
  pump(client, *f.server);
  CHECK(client.responses[id].statuses == std::vector<int>{103, 200});
  CHECK(client.responses[id].headers == Fields{{"link", "</style.css>; rel=preload"}});
}

TEST_CASE("h2 session: Host stands in for a missing :authority; request trailers arrive") {
  Fixture f;
  Client client;
  // No :authority: built by hand, with a Host field instead.
  const int32_t id = client.headers(
      {{":method", "POST"}, {":scheme", "http"}, {":path", "/"}, {"host", "h.test"}});
  pump(client, *f.server);
  REQUIRE(client.headers({{"grpc-timeout", "1S"}}, NGHTTP2_FLAG_END_STREAM, id) == 0);
  pump(client, *f.server);
  const auto& seen = f.recorder.streams[id];
  CHECK(seen.head.authority == "h.test");
  CHECK(seen.head.fields.empty());  // Host is the authority, not a field passed on twice
  CHECK(seen.ended);
  CHECK(seen.trailers == Fields{{"grpc-timeout", "1S"}});
}

TEST_CASE("h2 session: request body flow control waits for the body to be passed on") {
  SessionLimits limits;
  limits.initial_window = 65536;
  Fixture f(limits);
  f.recorder.consume_at_once = false;
  Client client;
  const std::string body(300 * 1024, 'b');
  const int32_t id = client.request("POST", "/upload", {}, &body);
  pump(client, *f.server);
  const size_t first = f.recorder.streams[id].body.size();
  CHECK(first > 0);
  CHECK(first <= 65536);  // the stream's window, not the whole body
  CHECK_FALSE(f.recorder.streams[id].ended);

  // Passed on: the window reopens and the rest follows, byte for byte.
  for (int round = 0; round < 100 && !f.recorder.streams[id].ended; ++round) {
    f.server->consumed(id, f.recorder.streams[id].body.size());
    pump(client, *f.server);
  }
  CHECK(f.recorder.streams[id].ended);
  CHECK(f.recorder.streams[id].body == body);
}

TEST_CASE("h2 session: a slow client holds the response back, not the proxy's memory") {
  Fixture f;
  Client client(16384, /*auto_window=*/false);
  const int32_t id = client.request("GET", "/big");
  pump(client, *f.server);
  REQUIRE(f.server->respond(id, 200, {}, false));
  const std::string body(200 * 1024, 'r');
  f.server->sendData(id, body);
  f.server->endResponse(id);
  pump(client, *f.server);
  CHECK(client.responses[id].body.size() == 16384);  // the client's window
  CHECK(f.server->bufferedResponseBytes(id) == body.size() - 16384);

  for (int round = 0; round < 100 && !client.responses[id].closed; ++round) {
    client.consume(id, client.responses[id].body.size());
    pump(client, *f.server);
  }
  CHECK(client.responses[id].body == body);
  CHECK(client.responses[id].closed);
}

TEST_CASE("h2 session: streams over the concurrency limit are refused and counted") {
  SessionLimits limits;
  limits.max_concurrent_streams = 2;
  Fixture f(limits);
  Client client;  // sends all three before it learns the limit
  client.request("GET", "/1");
  client.request("GET", "/2");
  const int32_t third = client.request("GET", "/3");
  pump(client, *f.server);
  CHECK(f.recorder.heads == 2);
  CHECK(client.responses[third].closed);
  CHECK(client.responses[third].error == NGHTTP2_REFUSED_STREAM);
  CHECK(f.counters.defence(Defence::StreamRefused) == 1);
}

TEST_CASE("h2 session: a header list over the limit (HPACK bomb) is answered 431") {
  SessionLimits limits;
  limits.max_header_list_bytes = 4096;
  Fixture f(limits);
  Client client;
  // Small on the wire once indexed, large decoded: the same big field, again and again.
  Fields fields;
  for (int i = 0; i < 20; ++i) fields.push_back({"x-bomb", std::string(1000, 'z')});
  const int32_t id = client.request("GET", "/", fields);
  const int32_t fine = client.request("GET", "/ok");
  pump(client, *f.server);
  CHECK(client.responses[id].status == 431);
  CHECK(f.recorder.streams.count(id) == 0);  // the proxy never saw it
  CHECK(f.recorder.streams.count(fine) == 1);
  CHECK(f.counters.defence(Defence::HeaderListTooLarge) == 1);
  CHECK(f.server->wantsRead());  // the connection goes on
}

TEST_CASE("h2 session: a CONTINUATION flood ends the connection (CVE-2024-27316)") {
  Fixture f;
  std::string bytes = kPreface + frame(NGHTTP2_SETTINGS, 0, 0, "");
  const std::string field = std::string(
      "\x00\x01"
      "a\x01"
      "b",
      5);                                        // literal "a: b"
  bytes += frame(NGHTTP2_HEADERS, 0, 1, field);  // no END_HEADERS
  for (int i = 0; i < 50; ++i) bytes += frame(NGHTTP2_CONTINUATION, 0, 1, field);
  CHECK_FALSE(f.server->receive(bytes, kStart));
  CHECK(f.counters.defence(Defence::ContinuationFlood) == 1);
  std::string out;
  f.server->produce(out, SIZE_MAX);
  CHECK(hasGoaway(out, NGHTTP2_ENHANCE_YOUR_CALM));
  CHECK(f.recorder.heads == 0);
}

TEST_CASE("h2 session: rapid reset ends the connection (CVE-2023-44487), fair use does not") {
  SessionLimits limits;
  limits.max_concurrent_streams = 1000;
  limits.rapid_reset_min_streams = 100;
  SUBCASE("opened and cancelled at once") {
    Fixture f(limits);
    Client client;
    std::vector<int32_t> ids;
    for (int i = 0; i < 150; ++i) ids.push_back(client.request("GET", "/"));
    pump(client, *f.server);
    for (int32_t id : ids) client.reset(id);
    pump(client, *f.server);
    CHECK(f.counters.defence(Defence::RapidReset) == 1);
    REQUIRE_FALSE(client.goaways.empty());
    CHECK(client.goaways.back() == NGHTTP2_ENHANCE_YOUR_CALM);
  }
  SUBCASE("most answered, a few cancelled") {
    Fixture f(limits);
    f.recorder.on_end = [&](int32_t id) { (void)f.server->respond(id, 204, {}, true); };
    Client client;
    for (int i = 0; i < 150; ++i) client.request("GET", "/");
    pump(client, *f.server);
    std::vector<int32_t> pending;
    f.recorder.on_end = nullptr;
    for (int i = 0; i < 10; ++i) pending.push_back(client.request("GET", "/slow"));
    pump(client, *f.server);
    for (int32_t id : pending) client.reset(id);
    pump(client, *f.server);
    CHECK(f.counters.defence(Defence::RapidReset) == 0);
    CHECK(client.goaways.empty());
    CHECK(f.counters.resets_received == 10);
    CHECK(f.counters.streams_opened == 160);
  }
}

TEST_CASE("h2 session: a PING or SETTINGS flood ends the connection") {
  SessionLimits limits;
  limits.control_frames_per_second = 100;
  Fixture f(limits);
  Client client;
  pump(client, *f.server);
  // Spread out, the same number is fine.
  for (int second = 0; second < 3; ++second) {
    for (int i = 0; i < 90; ++i) nghttp2_submit_ping(client.raw(), NGHTTP2_FLAG_NONE, nullptr);
    pump(client, *f.server, kStart + std::chrono::seconds(second));
  }
  CHECK(f.counters.defence(Defence::ControlFrameFlood) == 0);
  for (int i = 0; i < 500; ++i) nghttp2_submit_ping(client.raw(), NGHTTP2_FLAG_NONE, nullptr);
  pump(client, *f.server, kStart + std::chrono::seconds(10));
  CHECK(f.counters.defence(Defence::ControlFrameFlood) == 1);
  REQUIRE_FALSE(client.goaways.empty());
  CHECK(client.goaways.back() == NGHTTP2_ENHANCE_YOUR_CALM);
}

TEST_CASE("h2 session: a flood of empty DATA frames ends the connection") {
  Fixture f;
  Client client;
  const std::string body = "x";
  // A request with a body still to come; then empty frames on its stream, written raw.
  const int32_t id = client.headers(
      {{":method", "POST"}, {":scheme", "https"}, {":authority", "a"}, {":path", "/"}});
  pump(client, *f.server);
  REQUIRE(f.recorder.heads == 1);
  std::string flood;
  for (int i = 0; i < 100; ++i) flood += frame(NGHTTP2_DATA, 0, static_cast<uint32_t>(id), "");
  CHECK_FALSE(f.server->receive(flood, kStart));
  CHECK(f.counters.defence(Defence::EmptyFrameFlood) == 1);
}

TEST_CASE("h2 session: graceful shutdown lets open streams finish") {
  Fixture f;
  Client client;
  const int32_t id = client.request("GET", "/long");
  pump(client, *f.server);
  f.server->shutdown();
  pump(client, *f.server);
  REQUIRE(client.goaways.size() == 1);
  CHECK(client.goaways[0] == NGHTTP2_NO_ERROR);
  CHECK(client.goaway_last_stream == id);
  REQUIRE(f.server->respond(id, 200, {}, false));
  f.server->sendData(id, "done");
  f.server->endResponse(id);
  pump(client, *f.server);
  CHECK(client.responses[id].body == "done");
  CHECK_FALSE(f.server->wantsRead());
  CHECK_FALSE(f.server->wantsWrite());
}

TEST_CASE("h2 session: bytes that are not HTTP/2 end the session at once") {
  Fixture f;
  CHECK_FALSE(f.server->receive("GET / HTTP/1.1\r\nHost: a\r\n\r\n", kStart));
  CHECK_FALSE(f.server->wantsRead());
  CHECK(f.recorder.heads == 0);
}
