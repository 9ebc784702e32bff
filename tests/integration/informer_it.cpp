// Informer<T> + Store<T> against a real kube-apiserver, including the apiserver crashing.
#include <doctest/doctest.h>

#include <map>
#include <thread>

#include "operator/runtime/informer.h"
#include "tests/integration/cluster.h"

using namespace portico;
using namespace portico::kube;
using namespace std::chrono_literals;
using portico::it::configMap;
using portico::it::eventually;

namespace {

using Versions = std::map<std::string, std::string>;  // name → resourceVersion

Versions storeVersions(const runtime::Informer<Json>& informer) {
  Versions out;
  for (const auto& obj : informer.store().list())
    out[(*obj)["metadata"]["name"].get<std::string>()] = (*obj)["metadata"]["resourceVersion"];
  return out;
}

Versions kubectlVersions(const std::string& ns) {
  std::string out;
  if (it::kubectl("get configmaps -n " + ns + " -o json", &out) != 0) return {};
  Versions versions;
  const Json list = Json::parse(out);  // outlives the loop (a temporary's member would not)
  for (const auto& item : list["items"])
    versions[item["metadata"]["name"].get<std::string>()] = item["metadata"]["resourceVersion"];
  return versions;
}

std::string valueIn(const runtime::Informer<Json>& informer, const std::string& ns,
                    const std::string& name) {
  auto obj = informer.store().get({ns, name});
  return obj ? (*obj)["data"].value("value", "") : "<absent>";
}

struct RunningInformer {
  std::shared_ptr<runtime::Informer<Json>> informer;
  CancelSource cancel;
  std::thread thread;

  RunningInformer(KubeClient& client, const std::string& ns) {
    runtime::InformerOptions options;
    options.namespace_ = ns;
    options.page_size = 4;  // several pages even for small lists
    options.reconnect_backoff = {std::chrono::milliseconds(200), std::chrono::milliseconds(2000),
                                 2.0};
    informer = std::make_shared<runtime::Informer<Json>>(client, resources::configMaps(), options);
    thread = std::thread([this] { informer->run(cancel); });
  }
  ~RunningInformer() {
    cancel.cancel();
    thread.join();
  }
};

}  // namespace

TEST_CASE("informer: its store converges to what kubectl get shows") {
  auto client = it::adminClient();
  std::string ns = it::freshNamespace(*client, "converge");
  for (int i = 0; i < 10; ++i)
    REQUIRE(client->create(resources::configMaps(), configMap(ns, "cm-" + std::to_string(i), "v")));
  RunningInformer running(*client, ns);
  REQUIRE(eventually([&] { return running.informer->hasSynced(); }, 20s));
  CHECK(running.informer->store().size() == 10);

  REQUIRE(it::kubectl("create configmap -n " + ns + " extra-1 --from-literal=a=b") == 0);
  REQUIRE(it::kubectl("create configmap -n " + ns + " extra-2 --from-literal=a=b") == 0);
  REQUIRE(it::kubectl("delete configmap -n " + ns + " cm-3 cm-4") == 0);
  REQUIRE(it::kubectl("annotate configmap -n " + ns + " cm-5 touched=yes") == 0);
  Versions expected = kubectlVersions(ns);
  REQUIRE(expected.size() == 10);
  CHECK(eventually([&] { return storeVersions(*running.informer) == expected; }, 20s));
  CHECK(running.informer->listCount() == 1);
}

TEST_CASE("informer: survives an apiserver crash, including changes made while it was down") {
  auto client = it::adminClient();
  std::string ns = it::freshNamespace(*client, "crash");
  REQUIRE(client->create(resources::configMaps(), configMap(ns, "before", "1")));
  REQUIRE(client->create(resources::configMaps(), configMap(ns, "doomed", "1")));
  RunningInformer running(*client, ns);
  REQUIRE(eventually(
      [&] { return running.informer->watchCount() >= 1 && running.informer->store().size() == 2; },
      20s));

  // A second apiserver on the same etcd lets the world change while ours is down.
  it::startApiserver("apiserver2");
  auto other = it::adminClient("apiserver2");
  it::killApiserver("apiserver");
  auto before = *other->get(resources::configMaps(), {ns, "before"});
  before["data"]["value"] = "2";
  REQUIRE(other->update(resources::configMaps(), before));
  REQUIRE(other->create(resources::configMaps(), configMap(ns, "during", "1")));
  REQUIRE(other->remove(resources::configMaps(), {ns, "doomed"}, {}).isOk());
  it::killApiserver("apiserver2");

  it::startApiserver("apiserver");
  CHECK(eventually(
      [&] {
        return valueIn(*running.informer, ns, "before") == "2" &&
               valueIn(*running.informer, ns, "during") == "1" &&
               valueIn(*running.informer, ns, "doomed") == "<absent>";
      },
      60s));
  // The restarted apiserver's watch cache starts after the informer's resourceVersion: the
  // re-watch gets 410 Gone and the informer relists.
  CHECK(running.informer->listCount() >= 2);

  // And it keeps following live changes afterwards.
  REQUIRE(client->create(resources::configMaps(), configMap(ns, "after", "1")));
  CHECK(eventually([&] { return valueIn(*running.informer, ns, "after") == "1"; }, 20s));
}

TEST_CASE("watch: a resourceVersion older than the server's window yields 410 Gone") {
  auto client = it::adminClient();
  std::string ns = it::freshNamespace(*client, "gone");
  auto start = client->list(resources::configMaps(), ns, {});
  REQUIRE(start);
  REQUIRE(client->create(resources::configMaps(), configMap(ns, "x", "1")));
  it::killApiserver("apiserver");
  it::startApiserver("apiserver");  // a fresh watch cache starts at the current version
  auto fresh = it::adminClient();
  CancelSource cancel;
  WatchOptions options;
  options.resource_version = start->resource_version;
  options.timeout_seconds = 10;
  Status status = fresh->watch(
      resources::configMaps(), ns, options, [](WatchEvent&&) { return true; }, cancel);
  CHECK(status.code() == ErrorCode::Gone);
  CHECK(status.httpStatus() == 410);
}
