#include <doctest/doctest.h>

#include "controllers/common/event_recorder.h"
#include "tests/fakes/fake_kube_client.h"

using namespace portico;

namespace {
// The namespaces of the Events recorded so far.
std::vector<std::string> eventNamespaces(testing::FakeKubeClient& api) {
  std::vector<std::string> out;
  auto page = api.list(kube::resources::events(), "", {});
  REQUIRE(page);
  for (const auto& item : page->items) out.push_back(item["metadata"].value("namespace", ""));
  return out;
}
const controllers::ObjectReference kConfig{"portico.io/v1alpha1", "IngressClassConfig", "",
                                           "portico", "uid-1"};
}  // namespace

TEST_CASE("events: about a cluster-scoped object they go to default, as client-go records them") {
  testing::FakeKubeClient api;
  controllers::EventRecorder events(api, "portico", "test");
  events.record(kConfig, "Warning", "Invalid", "why");
  CHECK(eventNamespaces(api) == std::vector<std::string>{"default"});
  CHECK(events.recorded() == 1);
}

TEST_CASE("events: a namespaced install records them in its own namespace, the only one it may") {
  testing::FakeKubeClient api;
  api.confineTo("shop");  // the namespaced install's Role
  controllers::EventRecorder events(api, "portico", "test");
  events.recordClusterScopedIn("shop");
  events.record(kConfig, "Warning", "Invalid", "why");
  events.record({"networking.k8s.io/v1", "Ingress", "shop", "web", "uid-2"}, "Normal", "Sync",
                "ok");
  api.confineTo("");
  CHECK(eventNamespaces(api) == std::vector<std::string>{"shop", "shop"});
  CHECK(events.recorded() == 2);
}
