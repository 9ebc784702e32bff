// The Kubernetes client against a real kube-apiserver + etcd.
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include "tests/integration/cluster.h"

using namespace portico;
using namespace portico::kube;
using namespace std::chrono_literals;
using portico::it::configMap;
using portico::it::eventually;

namespace {

const Resource kWidgets{"it.portico.io", "v1", "widgets", true};

// A small CRD with a status subresource, created once per run.
void ensureWidgetCrd(KubeClient& client) {
  Json crd = Json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.it.portico.io"},
    "spec": {"group": "it.portico.io", "scope": "Namespaced",
      "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
      "versions": [{"name": "v1", "served": true, "storage": true,
        "subresources": {"status": {}},
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {
          "spec": {"type": "object", "properties": {"size": {"type": "integer", "minimum": 1},
                                                    "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
          "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}}}]}})");
  auto created = client.create(resources::customResourceDefinitions(), crd);
  REQUIRE((created || created.error().code() == ErrorCode::AlreadyExists));
  REQUIRE(eventually(
      [&] {
        auto got =
            client.get(resources::customResourceDefinitions(), {"", "widgets.it.portico.io"});
        if (!got) return false;
        for (const auto& c : (*got)["status"].value("conditions", Json::array()))
          if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
        return false;
      },
      30s));
  // Established can precede the REST endpoint by a moment.
  REQUIRE(eventually([&] { return client.list(kWidgets, "default", {}).hasValue(); }, 30s));
}

}  // namespace

TEST_CASE("discovery: the test apiserver serves what Portico needs") {
  auto client = it::adminClient();
  auto version = client->preferredVersion("discovery.k8s.io", {"v1", "v1beta1"});
  REQUIRE(version);
  CHECK(*version == "v1beta1");  // Kubernetes 1.20: EndpointSlice v1 arrived in 1.21
  CHECK(client->preferredVersion("networking.k8s.io", {"v1"}));
  CHECK(client->preferredVersion("coordination.k8s.io", {"v1"}));
}

TEST_CASE("configmaps: create, get, update, 409 on a stale update, delete with preconditions") {
  auto client = it::adminClient();
  std::string ns = it::freshNamespace(*client, "crud");
  auto created = client->create(resources::configMaps(), configMap(ns, "a", "1"));
  REQUIRE(created);
  auto fetched = client->get(resources::configMaps(), {ns, "a"});
  REQUIRE(fetched);
  CHECK((*fetched)["data"]["value"] == "1");

  Json first = *fetched;
  Json second = *fetched;
  first["data"]["value"] = "2";
  REQUIRE(client->update(resources::configMaps(), first));
  second["data"]["value"] = "3";  // still carries the old resourceVersion
  auto stale = client->update(resources::configMaps(), second);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code() == ErrorCode::Conflict);
  CHECK(stale.error().httpStatus() == 409);

  auto again = client->create(resources::configMaps(), configMap(ns, "a", "x"));
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == ErrorCode::AlreadyExists);

  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  CHECK(client->remove(resources::configMaps(), {ns, "a"}, wrong_uid).code() ==
        ErrorCode::Conflict);
  DeleteOptions right_uid;
  right_uid.precondition_uid = (*fetched)["metadata"]["uid"].get<std::string>();
  right_uid.propagation_policy = "Background";
  CHECK(client->remove(resources::configMaps(), {ns, "a"}, right_uid).isOk());
  auto gone = client->get(resources::configMaps(), {ns, "a"});
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code() == ErrorCode::NotFound);
}

TEST_CASE("configmaps: a paged list returns every object exactly once") {
  auto client = it::adminClient();
  std::string ns = it::freshNamespace(*client, "paging");
  for (int i = 0; i < 23; ++i)
    REQUIRE(client->create(resources::configMaps(), configMap(ns, "cm-" + std::to_string(i), "v")));
  ListOptions options;
  options.limit = 5;
  auto first = client->list(resources::configMaps(), ns, options);
  REQUIRE(first);
  CHECK(first->items.size() == 5);
  CHECK_FALSE(first->continue_token.empty());
  auto all = client->listAll(resources::configMaps(), ns, options);
  REQUIRE(all);
  std::set<std::string> names;
  for (const auto& item : all->items) names.insert(item["metadata"]["name"].get<std::string>());
  CHECK(all->items.size() == 23);  // kube-root-ca.crt needs a controller-manager: not running
  CHECK(names.size() == 23);
  CHECK_FALSE(all->resource_version.empty());
}

TEST_CASE("custom resources: CRUD, paging, status subresource, patches and server-side apply") {
  auto client = it::adminClient();
  ensureWidgetCrd(*client);
  std::string ns = it::freshNamespace(*client, "widgets");
  auto widget = [&](const std::string& name, int size) {
    return Json{{"apiVersion", "it.portico.io/v1"},
                {"kind", "Widget"},
                {"metadata", {{"namespace", ns}, {"name", name}}},
                {"spec", {{"size", size}}}};
  };
  for (int i = 0; i < 7; ++i)
    REQUIRE(client->create(kWidgets, widget("w" + std::to_string(i), i + 1)));

  ListOptions paged;
  paged.limit = 3;
  auto all = client->listAll(kWidgets, ns, paged);
  REQUIRE(all);
  CHECK(all->items.size() == 7);
  CHECK(all->items[0]["kind"] == "Widget");

  // Validation by the server's structural schema.
  auto invalid = client->create(kWidgets, widget("bad", 0));
  REQUIRE_FALSE(invalid);
  CHECK(invalid.error().code() == ErrorCode::Invalid);
  CHECK(invalid.error().message().find("spec.size") != std::string::npos);

  // Status only changes through the status subresource.
  auto w0 = *client->get(kWidgets, {ns, "w0"});
  w0["status"] = {{"phase", "Ready"}};
  auto with_status = client->updateStatus(kWidgets, w0);
  REQUIRE(with_status);
  CHECK((*with_status)["status"]["phase"] == "Ready");
  auto w0b = *with_status;
  w0b["status"]["phase"] = "Ignored";
  w0b["spec"]["size"] = 42;
  auto main_update = client->update(kWidgets, w0b);
  REQUIRE(main_update);
  CHECK((*main_update)["status"]["phase"] == "Ready");
  CHECK((*main_update)["spec"]["size"] == 42);

  auto merged = client->patch(kWidgets, {ns, "w1"}, PatchType::Merge, R"({"spec":{"size":9}})", {});
  REQUIRE(merged);
  CHECK((*merged)["spec"]["size"] == 9);
  auto json_patched = client->patch(kWidgets, {ns, "w1"}, PatchType::JsonPatch,
                                    R"([{"op":"replace","path":"/spec/size","value":10}])", {});
  REQUIRE(json_patched);
  CHECK((*json_patched)["spec"]["size"] == 10);
  PatchOptions status_patch;
  status_patch.subresource = "status";
  auto status_merged = client->patch(kWidgets, {ns, "w1"}, PatchType::Merge,
                                     R"({"status":{"phase":"Patched"}})", status_patch);
  REQUIRE(status_merged);
  CHECK((*status_merged)["status"]["phase"] == "Patched");

  // Server-side apply: create by apply, then a second manager conflicts unless it forces.
  std::string applied =
      "apiVersion: it.portico.io/v1\nkind: Widget\nmetadata:\n  name: applied\n"
      "  namespace: " +
      ns + "\nspec:\n  size: 3\n";
  PatchOptions portico_manager;
  portico_manager.field_manager = "portico";
  auto created_by_apply =
      client->patch(kWidgets, {ns, "applied"}, PatchType::Apply, applied, portico_manager);
  REQUIRE(created_by_apply);
  CHECK((*created_by_apply)["spec"]["size"] == 3);
  std::string other =
      "apiVersion: it.portico.io/v1\nkind: Widget\nmetadata:\n  name: applied\n"
      "  namespace: " +
      ns + "\nspec:\n  size: 4\n";
  PatchOptions other_manager;
  other_manager.field_manager = "someone-else";
  auto conflict = client->patch(kWidgets, {ns, "applied"}, PatchType::Apply, other, other_manager);
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().code() == ErrorCode::Conflict);
  other_manager.force = true;
  auto forced = client->patch(kWidgets, {ns, "applied"}, PatchType::Apply, other, other_manager);
  REQUIRE(forced);
  CHECK((*forced)["spec"]["size"] == 4);

  CHECK(client->remove(kWidgets, {ns, "applied"}, {}).isOk());
}

TEST_CASE("watch: ADDED, MODIFIED and DELETED arrive in order") {
  auto client = it::adminClient();
  std::string ns = it::freshNamespace(*client, "watch");
  auto start = client->list(resources::configMaps(), ns, {});
  REQUIRE(start);

  std::vector<std::string> seen;
  std::mutex mutex;
  CancelSource cancel;
  std::jthread watcher([&] {
    WatchOptions options;
    options.resource_version = start->resource_version;
    options.timeout_seconds = 60;
    (void)client->watch(
        resources::configMaps(), ns, options,
        [&](WatchEvent&& e) {
          if (e.type == WatchEventType::Bookmark) return true;
          std::lock_guard lock(mutex);
          seen.push_back(std::string(watchEventTypeName(e.type)) + " " +
                         e.object["metadata"]["name"].get<std::string>());
          return seen.size() < 4;
        },
        cancel);
  });
  auto writer = it::adminClient();
  auto a = writer->create(resources::configMaps(), configMap(ns, "a", "1"));
  REQUIRE(a);
  (*a)["data"]["value"] = "2";
  REQUIRE(writer->update(resources::configMaps(), *a));
  REQUIRE(writer->create(resources::configMaps(), configMap(ns, "b", "1")));
  REQUIRE(writer->remove(resources::configMaps(), {ns, "a"}, {}).isOk());
  bool complete = eventually(
      [&] {
        std::lock_guard lock(mutex);
        return seen.size() == 4;
      },
      20s);
  cancel.cancel();
  watcher.join();
  REQUIRE(complete);
  CHECK(seen == std::vector<std::string>{"ADDED a", "MODIFIED a", "ADDED b", "DELETED a"});
}

TEST_CASE("watch: cancel ends a quiet watch promptly") {
  auto client = it::adminClient();
  std::string ns = it::freshNamespace(*client, "cancel");
  CancelSource cancel;
  std::atomic<bool> ended{false};
  Status result;
  std::jthread watcher([&] {
    WatchOptions options;
    options.timeout_seconds = 300;
    result = client->watch(
        resources::configMaps(), ns, options, [](WatchEvent&&) { return true; }, cancel);
    ended = true;
  });
  std::this_thread::sleep_for(300ms);  // let the watch be established and idle
  CHECK_FALSE(ended);
  cancel.cancel();
  bool stopped = eventually([&] { return ended.load(); }, 10s);
  watcher.join();
  CHECK(stopped);
  CHECK(result.code() == ErrorCode::Cancelled);
}
