#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <thread>

#include "controllers/routes/publisher.h"
#include "operator/proxy/snapshot_reader.h"
#include "tests/fakes/eventually.h"

using namespace portico;
using namespace portico::controllers::routes;
using portico::testing::eventually;

namespace {
std::string tempPath() {
  return "/tmp/portico-publisher-test-" + std::to_string(getpid()) + ".snap";
}
}  // namespace

TEST_CASE("publisher: a burst of triggers costs few compiles; unchanged tables are not rewritten") {
  std::atomic<int> builds{0};
  std::atomic<int> http_port{8080};
  auto writer = proxy::SnapshotWriter::create(tempPath());
  REQUIRE(writer);
  RoutePublisher publisher(
      [&] {
        ++builds;
        BuiltRoutes built;
        built.ready = true;
        proxy::Listeners listeners;
        listeners.http_port = static_cast<uint16_t>(http_port.load());
        built.compiled.table = proxy::RouteTable({}, {}, -1, {}, -1, {}, listeners);
        return built;
      },
      std::move(*writer),
      PublisherOptions{std::chrono::milliseconds(20), std::chrono::milliseconds(200)});
  std::atomic<int> callbacks{0};
  publisher.onPublished([&](const PublishedRoutes&) { ++callbacks; });
  CancelSource stop;
  std::thread runner([&] { publisher.run(stop); });

  for (int i = 0; i < 200; ++i) publisher.trigger();
  REQUIRE(eventually([&] { return publisher.current() != nullptr; }));
  CHECK(builds <= 3);
  CHECK(publisher.current()->generation == 1);

  // Same inputs again: compiled, but the snapshot keeps its generation.
  publisher.trigger();
  REQUIRE(eventually([&] { return builds >= 2 && callbacks >= 2; }));
  CHECK(publisher.current()->generation == 1);

  http_port = 9090;
  publisher.trigger();
  REQUIRE(eventually([&] { return publisher.current()->generation == 2; }));
  proxy::SnapshotReader reader(tempPath());
  auto table = reader.poll();
  REQUIRE(table);
  CHECK(table->listeners().http_port == 9090);

  stop.cancel();
  runner.join();
  ::unlink(tempPath().c_str());
}

TEST_CASE("publisher: not ready means nothing is published") {
  auto writer = proxy::SnapshotWriter::create(tempPath());
  REQUIRE(writer);
  std::atomic<int> builds{0};
  RoutePublisher publisher(
      [&] {
        ++builds;
        return BuiltRoutes{};
      },
      std::move(*writer));
  CancelSource stop;
  std::thread runner([&] { publisher.run(stop); });
  publisher.trigger();
  REQUIRE(eventually([&] { return builds == 1; }));
  CHECK(publisher.current() == nullptr);
  stop.cancel();
  runner.join();
  ::unlink(tempPath().c_str());
}

TEST_CASE("publisher: the class's spec.snapshotPath gets the same snapshot") {
  const std::string extra = tempPath() + ".extra";
  auto writer = proxy::SnapshotWriter::create(tempPath());
  REQUIRE(writer);
  RoutePublisher publisher(
      [&] {
        BuiltRoutes built;
        built.ready = true;
        built.applied_spec = crds::IngressClassConfigSpec{};
        built.applied_spec->snapshot_path = extra;
        proxy::Listeners listeners;
        listeners.http_port = 8181;
        built.compiled.table = proxy::RouteTable({}, {}, -1, {}, -1, {}, listeners);
        return built;
      },
      std::move(*writer));
  CancelSource stop;
  std::thread runner([&] { publisher.run(stop); });
  publisher.trigger();
  proxy::SnapshotReader reader(extra);
  proxy::RouteTableConstSharedPtr table;
  CHECK(eventually([&] { return (table = reader.poll()) != nullptr; }));
  stop.cancel();
  runner.join();
  REQUIRE(table);
  CHECK(table->listeners().http_port == 8181);
  ::unlink(tempPath().c_str());
  ::unlink(extra.c_str());
}

TEST_CASE("publisher: spec.snapshotPath is confined to the operator's own snapshot directory") {
  struct Row {
    const char* requested;
    const char* resolved;  // nullptr: refused
  };
  const Row rows[] = {
      {"extra.snapshot", "/run/portico/extra.snapshot"},
      {"/run/portico/extra.snapshot", "/run/portico/extra.snapshot"},
      {"/etc/passwd", nullptr},
      {"/run/portico/../../etc/passwd", nullptr},
      {"../escape", nullptr},
      {"sub/file", nullptr},
      {"/run/portico/sub/file", nullptr},
      {"..", nullptr},
      {"/run/portico/", nullptr},
  };
  for (const auto& row : rows) {
    SUBCASE(row.requested) {
      auto resolved = confinedSnapshotPath(row.requested, "/run/portico/routes.snapshot");
      if (row.resolved) {
        REQUIRE(resolved);
        CHECK(*resolved == row.resolved);
      } else {
        CHECK_FALSE(resolved);
      }
    }
  }
}
