#include <doctest/doctest.h>

#include "operator/kube/api_error.h"
#include "operator/kube/watch_stream.h"

using namespace portico;
using namespace portico::kube;

namespace {
const std::string kAdded =
    R"({"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"5"}}})";
const std::string kModified =
    R"({"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"6"}}})";
const std::string kBookmark =
    R"({"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"9"}}})";
const std::string kGone =
    R"J({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (20)","reason":"Expired","code":410}})J";
}  // namespace

TEST_CASE("watch stream: whole events, one per line") {
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  REQUIRE(decoder.feed(kAdded + "\n" + kModified + "\n", events));
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == WatchEventType::Added);
  CHECK(events[1].type == WatchEventType::Modified);
  CHECK(events[1].object["metadata"]["resourceVersion"] == "6");
  CHECK(decoder.pending() == 0);
}

TEST_CASE("watch stream: events split across chunks at every byte boundary") {
  const std::string stream = kAdded + "\n" + kBookmark + "\r\n" + kModified + "\n";
  for (size_t cut = 1; cut < stream.size(); cut += 7) {
    CAPTURE(cut);
    WatchDecoder decoder;
    std::vector<WatchEvent> events;
    REQUIRE(decoder.feed(stream.substr(0, cut), events));
    REQUIRE(decoder.feed(stream.substr(cut), events));
    REQUIRE(events.size() == 3);
    CHECK(events[1].type == WatchEventType::Bookmark);
    CHECK(events[1].object["metadata"]["resourceVersion"] == "9");
  }
}

TEST_CASE("watch stream: a partial line waits for the rest") {
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  REQUIRE(decoder.feed(kAdded.substr(0, 10), events));
  CHECK(events.empty());
  CHECK(decoder.pending() == 10);
  REQUIRE(decoder.feed(kAdded.substr(10) + "\n\n", events));
  CHECK(events.size() == 1);
}

TEST_CASE("watch stream: an ERROR event with code 410 means relist") {
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  REQUIRE(decoder.feed(kGone + "\n", events));
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == WatchEventType::Error);
  Status status = statusFromWatchError(events[0].object);
  CHECK(status.code() == ErrorCode::Gone);
  CHECK(status.httpStatus() == 410);
  CHECK(status.message().find("too old") != std::string::npos);
}

TEST_CASE("watch stream: an ERROR event with a code that is no HTTP status is a server error") {
  // Found by watch_stream_fuzz: a string code made nlohmann::json throw (and the operator die).
  for (const char* code : {"\"Expired\"", "410.5", "-1", "99999999999", "null", "[]"}) {
    CAPTURE(code);
    WatchDecoder decoder;
    std::vector<WatchEvent> events;
    REQUIRE(decoder.feed(
        std::string(R"({"type":"ERROR","object":{"kind":"Status","code":)") + code + "}}\n",
        events));
    REQUIRE(events.size() == 1);
    Status status = statusFromWatchError(events[0].object);
    CHECK_FALSE(status);
    CHECK(status.httpStatus() == 500);
  }
}

TEST_CASE("watch stream: corrupt lines are errors") {
  const char* rows[] = {"not json\n", "[1,2]\n", "{\"type\":\"ADDED\"}\n",
                        "{\"type\":\"EXPLODED\",\"object\":{}}\n"};
  for (const char* row : rows) {
    SUBCASE(row) {
      WatchDecoder decoder;
      std::vector<WatchEvent> events;
      CHECK(decoder.feed(row, events).code() == ErrorCode::DecodeError);
    }
  }
}

TEST_CASE("api errors: metav1.Status bodies become typed errors") {
  struct Row {
    int http;
    const char* reason;
    ErrorCode expected;
  };
  const Row rows[] = {{404, "NotFound", ErrorCode::NotFound},
                      {409, "AlreadyExists", ErrorCode::AlreadyExists},
                      {409, "Conflict", ErrorCode::Conflict},
                      {410, "Expired", ErrorCode::Gone},
                      {403, "Forbidden", ErrorCode::Forbidden},
                      {401, "Unauthorized", ErrorCode::Unauthorized},
                      {422, "Invalid", ErrorCode::Invalid},
                      {429, "TooManyRequests", ErrorCode::TooManyRequests},
                      {500, "InternalError", ErrorCode::Unavailable},
                      {503, "ServiceUnavailable", ErrorCode::Unavailable}};
  for (const auto& row : rows) {
    SUBCASE(row.reason) {
      std::string body =
          std::string(
              R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"m1","reason":")") +
          row.reason + R"(","details":{"retryAfterSeconds":3},"code":)" + std::to_string(row.http) +
          "}";
      Status status = statusFromApi(row.http, body);
      CHECK(status.code() == row.expected);
      CHECK(status.reason() == row.reason);
      CHECK(status.message() == "m1");
      CHECK(status.retryAfterSeconds() == 3);
    }
  }
  Status plain = statusFromApi(502, "<html>bad gateway</html>");
  CHECK(plain.code() == ErrorCode::Unavailable);
  CHECK(plain.message() == "<html>bad gateway</html>");
}
