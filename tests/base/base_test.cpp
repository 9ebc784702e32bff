#include <doctest/doctest.h>
#include <atomic>

#include <string>
#include <thread>
#include <vector>

#include "operator/base/backoff.h"
#include "operator/base/base64.h"
#include "operator/base/cancel.h"
#include "operator/base/log.h"
#include "operator/base/object_key.h"
#include "operator/base/status.h"
#include "operator/base/time_format.h"

using namespace portico;
using namespace std::chrono_literals;

TEST_CASE("base64: RFC 4648 §10 test vectors, both alphabets") {
  struct Row {
    const char* plain;
    const char* encoded;
  };
  const Row rows[] = {{"", ""},
                      {"f", "Zg=="},
                      {"fo", "Zm8="},
                      {"foo", "Zm9v"},
                      {"foob", "Zm9vYg=="},
                      {"fooba", "Zm9vYmE="},
                      {"foobar", "Zm9vYmFy"}};
  for (const auto& row : rows) {
    SUBCASE(row.plain) {
      CHECK(base64Encode(row.plain) == row.encoded);
      CHECK(base64Decode(row.encoded).value() == row.plain);
      std::string url = row.encoded;
      while (!url.empty() && url.back() == '=') url.pop_back();
      CHECK(base64UrlEncode(row.plain) == url);
      CHECK(base64UrlDecode(url).value() == row.plain);
    }
  }
}

TEST_CASE("base64: url alphabet, wrapped input and garbage") {
  CHECK(base64UrlEncode("\xfb\xff") == "-_8");
  CHECK(base64Encode("\xfb\xff") == "+/8=");
  CHECK(base64Decode("Zm9v\nYmFy\n").value() == "foobar");
  CHECK_FALSE(base64Decode("Zm9v!"));
  CHECK_FALSE(base64Decode("Z"));
  CHECK_FALSE(base64Decode("Zg==Zg"));
}

TEST_CASE("time: RFC 3339 format and parse round trip") {
  auto t = std::chrono::system_clock::from_time_t(1790000000) + std::chrono::microseconds(123456);
  CHECK(formatRfc3339(t) == "2026-09-21T14:13:20Z");
  CHECK(formatRfc3339Micro(t) == "2026-09-21T14:13:20.123456Z");
  CHECK(parseRfc3339("2026-09-21T14:13:20.123456Z").value() == t);
  CHECK(parseRfc3339("2026-09-21T16:13:20.123456+02:00").value() == t);
  CHECK(parseRfc3339("2026-09-21T14:13:20Z").value() ==
        std::chrono::system_clock::from_time_t(1790000000));
  CHECK_FALSE(parseRfc3339("2026-09-21 14:13:20Z"));
  CHECK_FALSE(parseRfc3339("2026-13-21T14:13:20Z"));
  CHECK_FALSE(parseRfc3339("2026-09-21T14:13:20"));
  CHECK_FALSE(parseRfc3339("2026-09-21T14:13:20Zjunk"));
}

TEST_CASE("backoff: doubles from the initial delay and stops at the cap") {
  ExponentialBackoff b{100ms, 1000ms, 2.0};
  CHECK(b.delay(0) == 100ms);
  CHECK(b.delay(1) == 200ms);
  CHECK(b.delay(3) == 800ms);
  CHECK(b.delay(4) == 1000ms);
  CHECK(b.delay(500) == 1000ms);
  CHECK(b.delay(1, 0.999) < 300ms + 1ms);  // jitter adds at most half
}

TEST_CASE("status: codes, messages and terminal marking") {
  Status ok;
  CHECK(ok.isOk());
  Status nf(ErrorCode::NotFound, "x not found");
  nf.withHttp(404, "NotFound");
  CHECK(nf.toString() == "NotFound (HTTP 404): x not found");
  CHECK_FALSE(nf.terminal());
  CHECK(Status(nf).markTerminal().terminal());
  Expected<int> e = 5;
  CHECK(e.hasValue());
  CHECK(*e == 5);
  Expected<int> err = Status(ErrorCode::Conflict, "c");
  CHECK_FALSE(err);
  CHECK(err.error().code() == ErrorCode::Conflict);
}

TEST_CASE("object key: formatting and parsing") {
  CHECK(ObjectKey{"ns", "a"}.toString() == "ns/a");
  CHECK(ObjectKey{"", "a"}.toString() == "a");
  CHECK(ObjectKey::parse("ns/a") == ObjectKey{"ns", "a"});
  CHECK(ObjectKey::parse("a") == ObjectKey{"", "a"});
  CHECK(ObjectKey{"a", "z"} < ObjectKey{"b", "a"});
}

TEST_CASE("cancel: callbacks run once; sleeps end early") {
  CancelSource source;
  int calls = 0;
  auto id = source.onCancel([&] { ++calls; });
  int removed_calls = 0;
  auto removed = source.onCancel([&] { ++removed_calls; });
  source.unregister(removed);
  std::thread canceller([&] {
    std::this_thread::sleep_for(20ms);
    source.cancel();
  });
  CHECK_FALSE(source.sleepFor(10s));  // woken by cancel, long before 10 s
  canceller.join();
  source.cancel();
  CHECK(calls == 1);
  CHECK(removed_calls == 0);
  int late = 0;
  source.onCancel([&] { ++late; });
  CHECK(late == 1);
  (void)id;
}

TEST_CASE("cancel: unregister waits for a callback running on another thread") {
  // The callback uses the registering scope's stack: leaving the scope while it runs would be a
  // use after free (seen with cpprest's cancellation token under ASan).
  for (int round = 0; round < 20; ++round) {
    CancelSource source;
    std::atomic<bool> started{false};
    std::atomic<bool> finished{false};
    std::thread canceller;
    {
      CancelRegistration registration(source, [&] {
        started = true;
        std::this_thread::sleep_for(2ms);
        finished = true;
      });
      canceller = std::thread([&] { source.cancel(); });
      while (!started) std::this_thread::yield();
    }  // ~CancelRegistration
    CHECK(finished.load());
    canceller.join();
  }
}

TEST_CASE("cancel: a callback may unregister itself without deadlock") {
  CancelSource source;
  CancelSource::CallbackId id = 0;
  int calls = 0;
  id = source.onCancel([&] {
    ++calls;
    source.unregister(id);
  });
  source.cancel();
  CHECK(calls == 1);
}

namespace {
std::vector<std::string> g_lines;
void captureLine(std::string_view line) {
  g_lines.emplace_back(line);
}
}  // namespace

TEST_CASE("log: one JSON object per line; scoped context fields, the line's own fields win") {
  g_lines.clear();
  log::setSinkForTesting(&captureLine);
  {
    log::ScopedContext outer({{"controller", "certificate"}, {"object", "shop/app"}});
    log::ScopedContext inner({{"reconcileID", "0000000000000007"}});
    log::info("ordered", {{"order", "https://ca/1"}, {"object", "shop/other"}});
  }
  log::info("after", {{"quote", "a\"b"}});
  log::setSinkForTesting(nullptr);
  REQUIRE(g_lines.size() == 2);
  CHECK(
      g_lines[0].find(
          R"("msg":"ordered","controller":"certificate","reconcileID":"0000000000000007","order":"https://ca/1","object":"shop/other"})") !=
      std::string::npos);
  CHECK(g_lines[1].find(R"("msg":"after","quote":"a\"b"})") != std::string::npos);
  CHECK(g_lines[1].find("controller") == std::string::npos);  // the context ended with its scope
}
