#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "operator/runtime/informer.h"
#include "tests/fakes/eventually.h"
#include "tests/fakes/fake_kube_client.h"

using namespace portico;
using namespace portico::runtime;
using kube::Json;
using portico::testing::eventually;
using portico::testing::FakeKubeClient;
using namespace std::chrono_literals;

namespace {

Json configMap(const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"namespace", "default"}, {"name", name}}},
          {"data", {{"v", value}}}};
}

std::string valueOf(const Informer<Json>& informer, const std::string& name) {
  auto obj = informer.store().get({"default", name});
  return obj ? (*obj)["data"].value("v", "") : "<absent>";
}

struct Running {
  FakeKubeClient client;
  std::shared_ptr<Informer<Json>> informer;
  CancelSource cancel;
  std::thread thread;
  std::vector<std::string> log;
  std::mutex log_mutex;

  Running() {
    InformerOptions options;
    options.reconnect_backoff = {1ms, 5ms, 2.0};
    informer = std::make_shared<Informer<Json>>(client, kube::resources::configMaps(), options);
    auto note = [this](std::string s) {
      std::lock_guard lock(log_mutex);
      log.push_back(std::move(s));
    };
    informer->addHandlers(
        {[note](const ObjectKey& k, const auto&) { note("add " + k.name); },
         [note](const ObjectKey& k, const auto&, const auto&) { note("update " + k.name); },
         [note](const ObjectKey& k, const auto&) { note("delete " + k.name); }});
  }
  void start() {
    thread = std::thread([this] { informer->run(cancel); });
  }
  ~Running() {
    cancel.cancel();
    if (thread.joinable()) thread.join();
  }
  std::vector<std::string> events() {
    std::lock_guard lock(log_mutex);
    return log;
  }
};

}  // namespace

TEST_CASE("informer: lists, then follows adds, updates and deletes in order") {
  Running r;
  REQUIRE(r.client.create(kube::resources::configMaps(), configMap("a", "1")));
  r.start();
  REQUIRE(eventually([&] { return r.informer->hasSynced(); }));
  CHECK(valueOf(*r.informer, "a") == "1");
  auto a = *r.client.get(kube::resources::configMaps(), {"default", "a"});
  a["data"]["v"] = "2";
  REQUIRE(r.client.update(kube::resources::configMaps(), a));
  REQUIRE(r.client.create(kube::resources::configMaps(), configMap("b", "1")));
  REQUIRE(r.client.remove(kube::resources::configMaps(), {"default", "a"}, {}));
  REQUIRE(eventually([&] { return r.events().size() == 4; }));
  CHECK(r.events() == std::vector<std::string>{"add a", "update a", "add b", "delete a"});
  CHECK(r.informer->store().size() == 1);
}

TEST_CASE("informer: re-watches from the last version when the server ends a watch") {
  Running r;
  r.start();
  REQUIRE(eventually([&] { return r.informer->watchCount() == 1; }));
  r.client.closeWatches();
  REQUIRE(eventually([&] { return r.informer->watchCount() == 2; }));
  REQUIRE(r.client.create(kube::resources::configMaps(), configMap("x", "1")));
  REQUIRE(eventually([&] { return valueOf(*r.informer, "x") == "1"; }));
  CHECK(r.informer->listCount() == 1);  // no relist needed
}

TEST_CASE("informer: 410 Gone relists, and objects deleted meanwhile are reported deleted") {
  Running r;
  REQUIRE(r.client.create(kube::resources::configMaps(), configMap("keep", "1")));
  REQUIRE(r.client.create(kube::resources::configMaps(), configMap("gone", "1")));
  r.start();
  REQUIRE(
      eventually([&] { return r.informer->watchCount() == 1 && r.informer->store().size() == 2; }));
  // Watches break while objects change, and the server forgets the history in between.
  r.client.setWatchesBroken(true);
  REQUIRE(eventually([&] { return r.informer->watchCount() >= 2; }));  // it noticed, and retries
  REQUIRE(r.client.remove(kube::resources::configMaps(), {"default", "gone"}, {}));
  auto keep = *r.client.get(kube::resources::configMaps(), {"default", "keep"});
  keep["data"]["v"] = "2";
  REQUIRE(r.client.update(kube::resources::configMaps(), keep));
  r.client.compact();
  r.client.setWatchesBroken(false);
  REQUIRE(eventually([&] { return r.informer->listCount() >= 2; }));
  REQUIRE(eventually(
      [&] { return valueOf(*r.informer, "keep") == "2" && r.informer->store().size() == 1; }));
  CHECK(valueOf(*r.informer, "gone") == "<absent>");
}

TEST_CASE("informer: reconnects with backoff while the server is unavailable") {
  Running r;
  r.client.setUnavailable(true);
  r.start();
  REQUIRE(eventually([&] { return r.client.callCount("list") >= 3; }));
  CHECK_FALSE(r.informer->hasSynced());
  r.client.setUnavailable(false);
  REQUIRE(eventually([&] { return r.informer->hasSynced(); }));
}

TEST_CASE("informer: resync replays on the watch thread, never beside an event handler") {
  FakeKubeClient client;
  const auto maps = kube::resources::configMaps();
  for (int i = 0; i < 20; ++i)
    REQUIRE(client.create(maps, configMap("m" + std::to_string(i), "0")));
  InformerOptions options;
  options.resync_period = 1s;
  options.reconnect_backoff = {1ms, 5ms, 2.0};
  Informer<Json> informer(client, maps, options);
  std::atomic<int> inside{0}, overlaps{0}, replays{0}, events{0};
  auto enter = [&] {
    if (++inside != 1) ++overlaps;
    std::this_thread::sleep_for(1ms);  // long enough for another thread to step in
    --inside;
  };
  informer.addHandlers({[&](const ObjectKey&, const auto&) {
                          ++events;
                          enter();
                        },
                        [&](const ObjectKey&, const auto& old_obj, const auto& new_obj) {
                          old_obj == new_obj ? ++replays : ++events;
                          enter();
                        },
                        nullptr});
  CancelSource cancel;
  std::thread runner([&] { informer.run(cancel); });
  REQUIRE(eventually([&] { return informer.hasSynced(); }));
  // Events flow while the resync period passes: the replay and the events take turns.
  auto until = std::chrono::steady_clock::now() + 2500ms;
  for (int i = 0; std::chrono::steady_clock::now() < until && i < 2000; ++i) {
    auto object = *client.get(maps, {"default", "m" + std::to_string(i % 20)});
    object["data"]["v"] = std::to_string(i);
    REQUIRE(client.update(maps, object));
    std::this_thread::sleep_for(2ms);
  }
  CHECK(eventually([&] { return replays >= 20; }));  // at least one full replay
  cancel.cancel();
  runner.join();
  CHECK(events > 20);
  CHECK(overlaps == 0);
}

TEST_CASE("informer: a quiet resource still resyncs on time (the watch timeout is capped)") {
  FakeKubeClient client;
  const auto maps = kube::resources::configMaps();
  REQUIRE(client.create(maps, configMap("quiet", "0")));
  InformerOptions options;
  options.resync_period = 1s;
  Informer<Json> informer(client, maps, options);
  std::atomic<int> replays{0};
  informer.addHandlers({nullptr,
                        [&](const ObjectKey&, const auto& old_obj, const auto& new_obj) {
                          if (old_obj == new_obj) ++replays;
                        },
                        nullptr});
  CancelSource cancel;
  std::thread runner([&] { informer.run(cancel); });
  CHECK(eventually([&] { return replays >= 2; }, 5s));
  cancel.cancel();
  runner.join();
}
