#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "controllers/routes/secret_tracker.h"
#include "tests/fakes/eventually.h"
#include "tests/fakes/fake_kube_client.h"

using namespace portico;
using kube::Json;
using portico::testing::eventually;

namespace {
Json secret(const std::string& name, const std::string& type, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}, {"namespace", "shop"}}},
          {"type", type},
          {"data", {{"tls.crt", value}, {"tls.key", value}}}};
}
// Runs the tracker on a thread; stops and joins it however the test case ends.
struct Running {
  controllers::routes::SecretTracker& tracker;
  CancelSource stop;
  std::thread thread;
  explicit Running(controllers::routes::SecretTracker& t)
      : tracker(t), thread([this] { tracker.run(stop); }) {}
  ~Running() {
    stop.cancel();
    thread.join();
  }
};
// The decoded tls.crt of the one cached Secret named `name` ("" if absent).
std::string cached(const controllers::routes::SecretTracker& tracker, const std::string& name) {
  for (const auto& s : tracker.secrets())
    if (s->metadata.name == name) return *s->find("tls.crt");
  return "";
}
}  // namespace

TEST_CASE("secret tracker: caches only the wanted Secrets and follows their changes") {
  testing::FakeKubeClient api;
  const auto secrets = kube::resources::secrets();
  REQUIRE(api.create(secrets, secret("wanted", "kubernetes.io/tls", "YQ==")));  // "a"
  REQUIRE(api.create(secrets, secret("other", "kubernetes.io/tls", "Yg==")));
  std::atomic<int> changes{0};
  controllers::routes::SecretTracker tracker(api, [&](const ObjectKey&) { ++changes; });
  Running running(tracker);

  tracker.setWanted({{"shop", "wanted"}, {"shop", "missing"}});
  REQUIRE(eventually([&] { return tracker.settled(); }));
  CHECK(tracker.cachedCount() == 1);
  CHECK(cached(tracker, "wanted") == "a");
  // Let the watch start before changing things (it begins from the current version).
  REQUIRE(eventually([&] { return api.callCount("watch") > 0; }));

  int before = changes;
  REQUIRE(api.update(secrets, secret("other", "kubernetes.io/tls", "Yw==")));
  REQUIRE(api.update(secrets, secret("wanted", "kubernetes.io/tls", "ZA==")));  // "d"
  REQUIRE(eventually([&] { return cached(tracker, "wanted") == "d"; }));
  CHECK(cached(tracker, "other").empty());  // seen on the stream, never cached
  CHECK(tracker.cachedCount() == 1);
  CHECK(changes > before);

  REQUIRE(api.create(secrets, secret("missing", "kubernetes.io/tls", "ZQ==")));
  REQUIRE(eventually([&] { return cached(tracker, "missing") == "e"; }));

  REQUIRE(api.remove(secrets, {"shop", "wanted"}, {}));
  REQUIRE(eventually([&] { return cached(tracker, "wanted").empty(); }));

  tracker.setWanted({});
  CHECK(tracker.cachedCount() == 0);
}

TEST_CASE("secret tracker: a lost watch fetches every wanted Secret again") {
  testing::FakeKubeClient api;
  const auto secrets = kube::resources::secrets();
  REQUIRE(api.create(secrets, secret("s", "kubernetes.io/tls", "YQ==")));
  controllers::routes::SecretTracker tracker(api, [](const ObjectKey&) {});
  Running running(tracker);
  tracker.setWanted({{"shop", "s"}});
  REQUIRE(eventually([&] { return cached(tracker, "s") == "a" && api.callCount("watch") > 0; }));
  const int watches = api.callCount("watch");
  api.setWatchesBroken(true);
  // The tracker has noticed once it tries (and fails) to watch again.
  REQUIRE(eventually([&] { return api.callCount("watch") > watches; }, std::chrono::seconds(5)));
  REQUIRE(api.update(secrets, secret("s", "kubernetes.io/tls", "Yg==")));  // missed by the watch
  api.compact();
  api.setWatchesBroken(false);
  REQUIRE(eventually([&] { return cached(tracker, "s") == "b"; }, std::chrono::seconds(10)));
}

TEST_CASE("secret tracker: a Secret that cannot be decoded is kept as undecodable, not dropped") {
  testing::FakeKubeClient api;
  const auto secrets = kube::resources::secrets();
  REQUIRE(api.create(secrets, secret("broken", "kubernetes.io/tls", "not base64!")));
  controllers::routes::SecretTracker tracker(api, [](const ObjectKey&) {});
  Running running(tracker);
  tracker.setWanted({{"shop", "broken"}});
  REQUIRE(eventually([&] { return tracker.settled(); }));
  auto cached_secrets = tracker.secrets();
  REQUIRE(cached_secrets.size() == 1);
  CHECK(cached_secrets[0]->metadata.name == "broken");
  CHECK(cached_secrets[0]->data.empty());
  CHECK(cached_secrets[0]->decode_error.find("tls.") != std::string::npos);
  CHECK(cached_secrets[0]->decode_error.find("not base64!") == std::string::npos);  // no value
}

TEST_CASE("secret tracker: a namespaced install watches its own namespace only") {
  testing::FakeKubeClient api;
  const auto secrets = kube::resources::secrets();
  REQUIRE(api.create(secrets, secret("s", "kubernetes.io/tls", "YQ==")));
  api.confineTo("shop");  // a namespaced Role: listing or watching every namespace is Forbidden
  controllers::routes::SecretTracker tracker(
      api, [](const ObjectKey&) {}, "shop");
  Running running(tracker);
  tracker.setWanted({{"shop", "s"}});
  REQUIRE(eventually([&] { return cached(tracker, "s") == "a" && api.callCount("watch") > 0; }));
  REQUIRE(api.update(secrets, secret("s", "kubernetes.io/tls", "Yg==")));
  REQUIRE(eventually([&] { return cached(tracker, "s") == "b"; }));
}
