// The whole control plane on the in-memory API server: objects in, snapshot and status out, and
// the fixpoint — once converged, another round of reconciling writes nothing.
#include <doctest/doctest.h>

#include <unistd.h>

#include <thread>

#include "controllers/control_plane.h"
#include "operator/proxy/snapshot_reader.h"
#include "tests/fakes/eventually.h"
#include "tests/fakes/fake_kube_client.h"

using namespace portico;
using kube::Json;
using portico::testing::eventually;

namespace {
const kube::Resource kConfigs{"portico.io", "v1alpha1", "ingressclassconfigs", false};
const kube::Resource kSlices{"discovery.k8s.io", "v1", "endpointslices", true};

void serveEveryGroup(testing::FakeKubeClient& api) {
  api.setServedGroupVersions({{"", "v1"},
                              {"networking.k8s.io", "v1"},
                              {"discovery.k8s.io", "v1"},
                              {"portico.io", "v1alpha1"}});
}

void seed(kube::KubeClient& api) {
  REQUIRE(api.create(
      kube::resources::ingressClasses(),
      {{"apiVersion", "networking.k8s.io/v1"},
       {"kind", "IngressClass"},
       {"metadata", {{"name", "portico"}}},
       {"spec",
        {{"controller", "portico.io/ingress-controller"},
         {"parameters",
          {{"apiGroup", "portico.io"}, {"kind", "IngressClassConfig"}, {"name", "portico"}}}}}}));
  REQUIRE(api.create(kConfigs, {{"apiVersion", "portico.io/v1alpha1"},
                                {"kind", "IngressClassConfig"},
                                {"metadata", {{"name", "portico"}}},
                                {"spec", {{"listeners", {{"address", "127.0.0.1"}}}}}}));
  REQUIRE(api.create(kube::resources::services(),
                     {{"apiVersion", "v1"},
                      {"kind", "Service"},
                      {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
                      {"spec", {{"ports", {{{"name", "http"}, {"port", 80}}}}}}}));
  REQUIRE(api.create(kSlices, {{"apiVersion", "discovery.k8s.io/v1"},
                               {"kind", "EndpointSlice"},
                               {"metadata",
                                {{"name", "web-1"},
                                 {"namespace", "shop"},
                                 {"labels", {{"kubernetes.io/service-name", "web"}}}}},
                               {"addressType", "IPv4"},
                               {"ports", {{{"name", "http"}, {"port", 9000}}}},
                               {"endpoints", {{{"addresses", {"127.0.0.1"}}}}}}));
  for (const char* name : {"a", "b"}) {
    REQUIRE(api.create(
        kube::resources::ingresses(),
        {{"apiVersion", "networking.k8s.io/v1"},
         {"kind", "Ingress"},
         {"metadata", {{"name", name}, {"namespace", "shop"}}},
         {"spec",
          {{"ingressClassName", "portico"},
           {"rules",
            {{{"host", std::string(name) + ".test"},
              {"http",
               {{"paths",
                 {{{"path", "/"},
                   {"pathType", "Prefix"},
                   {"backend",
                    {{"service", {{"name", "web"}, {"port", {{"number", 80}}}}}}}}}}}}}}}}}}));
  }
  // Not ours: must be neither routed nor touched.
  REQUIRE(api.create(kube::resources::ingresses(),
                     {{"apiVersion", "networking.k8s.io/v1"},
                      {"kind", "Ingress"},
                      {"metadata", {{"name", "theirs"}, {"namespace", "shop"}}},
                      {"spec", {{"ingressClassName", "nginx"}}}}));
}

std::string lbIp(kube::KubeClient& api, const std::string& name) {
  auto ingress = api.get(kube::resources::ingresses(), {"shop", name});
  if (!ingress) return "?";
  return ingress->value("/status/loadBalancer/ingress/0/ip"_json_pointer, std::string());
}
}  // namespace

TEST_CASE("control plane: routes published, status written once, then a fixpoint") {
  testing::FakeKubeClient api;
  serveEveryGroup(api);
  seed(api);
  const std::string snapshot = "/tmp/portico-control-plane-test-" + std::to_string(getpid());
  controllers::ControlPlaneOptions options;
  options.snapshot_path = snapshot;
  auto plane = controllers::ControlPlane::create(api, options);
  REQUIRE(plane);
  CHECK((*plane)->endpointSliceVersion() == "v1");
  CancelSource stop;
  std::thread runner([&] { (void)(*plane)->run(stop); });

  REQUIRE(eventually([&] { return (*plane)->ready(); }));
  proxy::SnapshotReader reader(snapshot);
  auto table = reader.poll();
  REQUIRE(table);
  CHECK(table->match("a.test", "/x").found());
  CHECK(table->match("b.test", "/").found());
  CHECK(table->listeners().address == "127.0.0.1");

  REQUIRE(
      eventually([&] { return lbIp(api, "a") == "127.0.0.1" && lbIp(api, "b") == "127.0.0.1"; }));
  REQUIRE(eventually([&] {
    auto config = api.get(kConfigs, {"", "portico"});
    return config &&
           config->value("/status/conditions/1/status"_json_pointer, std::string()) == "True";
  }));
  CHECK(lbIp(api, "theirs").empty());

  // Converged: every queue drained, then another full round forced (a Service annotation
  // change recompiles and re-enqueues every Ingress). Nothing is written the second time.
  auto converged = [&] { return (*plane)->idle(); };
  REQUIRE(eventually(converged));
  const int patches = api.callCount("patch");
  const auto generation = (*plane)->publisher().current()->generation;
  const auto compiles = (*plane)->publisher().compileCount();
  auto service = api.get(kube::resources::services(), {"shop", "web"});
  REQUIRE(service);
  (*service)["metadata"]["annotations"]["touched"] = "yes";
  REQUIRE(api.update(kube::resources::services(), *service));
  REQUIRE(eventually([&] { return (*plane)->publisher().compileCount() > compiles; }));
  REQUIRE(eventually(converged));
  CHECK(api.callCount("patch") == patches);
  CHECK((*plane)->publisher().current()->generation == generation);

  // A real change: the Ingress goes away from the snapshot.
  REQUIRE(api.remove(kube::resources::ingresses(), {"shop", "b"}, {}));
  REQUIRE(eventually([&] {
    auto next = reader.poll();
    return next && !next->match("b.test", "/").found();
  }));

  stop.cancel();
  runner.join();
  ::unlink(snapshot.c_str());
}

TEST_CASE("control plane: an invalid config at start publishes nothing until it is fixed") {
  testing::FakeKubeClient api;
  serveEveryGroup(api);
  seed(api);
  auto config = api.get(kConfigs, {"", "portico"});
  REQUIRE(config);
  (*config)["spec"]["proxy"] = {{"headerTimeoutSeconds", 0}};  // invalid: at least 1
  REQUIRE(api.update(kConfigs, *config));
  const std::string snapshot = "/tmp/portico-control-plane-invalid-" + std::to_string(getpid());
  ::unlink(snapshot.c_str());
  controllers::ControlPlaneOptions options;
  options.snapshot_path = snapshot;
  auto plane = controllers::ControlPlane::create(api, options);
  REQUIRE(plane);
  CancelSource stop;
  std::thread runner([&] { (void)(*plane)->run(stop); });

  // The config's status says why; nothing is published (no listener on 0.0.0.0:80/443).
  REQUIRE(eventually([&] {
    auto stored = api.get(kConfigs, {"", "portico"});
    return stored &&
           stored->value("/status/conditions/0/status"_json_pointer, std::string()) == "False";
  }));
  REQUIRE(eventually([&] { return (*plane)->idle(); }));
  CHECK_FALSE((*plane)->ready());
  CHECK_FALSE((*plane)->publisher().current());
  CHECK_FALSE(proxy::SnapshotReader(snapshot).poll());  // no table for a proxy to serve

  // Fixed: the config's listeners are served. (The status writer may have bumped the
  // resourceVersion since the read: an edit retries on a conflict, as kubectl edit would.)
  auto editSpec = [&](auto edit) {
    return eventually([&] {
      auto current = api.get(kConfigs, {"", "portico"});
      if (!current) return false;
      edit((*current)["spec"]);
      return static_cast<bool>(api.update(kConfigs, *current));
    });
  };
  REQUIRE(editSpec([](Json& spec) { spec["proxy"] = {{"headerTimeoutSeconds", 10}}; }));
  REQUIRE(eventually([&] { return (*plane)->ready(); }));
  proxy::SnapshotReader reader(snapshot);
  auto table = reader.poll();
  REQUIRE(table);
  CHECK(table->listeners().address == "127.0.0.1");
  CHECK(table->listeners().proxy.header_timeout_seconds == 10);

  // Broken again later: the last valid settings stay in service.
  REQUIRE(editSpec([](Json& spec) {
    spec["listeners"] = {{"address", "0.0.0.0"}};
    spec["proxy"] = {{"headerTimeoutSeconds", 0}};
  }));
  REQUIRE(eventually([&] {
    auto stored = api.get(kConfigs, {"", "portico"});
    return stored &&
           stored->value("/status/conditions/0/status"_json_pointer, std::string()) == "False";
  }));
  REQUIRE(eventually([&] { return (*plane)->idle(); }));
  CHECK((*plane)->publisher().current()->built.applied_spec->listeners.address == "127.0.0.1");

  stop.cancel();
  runner.join();
  ::unlink(snapshot.c_str());
}

TEST_CASE("control plane: --watch-namespace works with a namespaced Role and sees nothing else") {
  testing::FakeKubeClient api;
  serveEveryGroup(api);
  seed(api);
  const kube::Resource certificates{"portico.io", "v1alpha1", "certificates", true};
  auto ingress = [](const std::string& ns, const std::string& name, bool acme) {
    Json object = {
        {"apiVersion", "networking.k8s.io/v1"},
        {"kind", "Ingress"},
        {"metadata", {{"name", name}, {"namespace", ns}}},
        {"spec",
         {{"ingressClassName", "portico"},
          {"tls", {{{"hosts", {name + ".test"}}, {"secretName", name + "-tls"}}}},
          {"rules",
           {{{"host", name + ".test"},
             {"http",
              {{"paths",
                {{{"path", "/"},
                  {"pathType", "Prefix"},
                  {"backend",
                   {{"service", {{"name", "web"}, {"port", {{"number", 80}}}}}}}}}}}}}}}}}};
    if (acme) object["metadata"]["annotations"]["portico.io/tls-acme"] = "true";
    return object;
  };
  REQUIRE(api.create(kube::resources::ingresses(), ingress("shop", "secure", true)));
  REQUIRE(api.create(kube::resources::ingresses(), ingress("other", "elsewhere", true)));
  // From here on the operator's rights are those of the namespaced install: a Role in "shop".
  api.confineTo("shop");
  const std::string snapshot = "/tmp/portico-control-plane-ns-" + std::to_string(getpid());
  controllers::ControlPlaneOptions options;
  options.snapshot_path = snapshot;
  options.watch_namespace = "shop";
  auto plane = controllers::ControlPlane::create(api, options);
  REQUIRE(plane);
  CancelSource stop;
  std::thread runner([&] { (void)(*plane)->run(stop); });

  REQUIRE(eventually([&] { return (*plane)->ready(); }));
  proxy::SnapshotReader reader(snapshot);
  auto table = reader.poll();
  REQUIRE(table);
  CHECK(table->match("a.test", "/").found());
  CHECK_FALSE(table->match("elsewhere.test", "/").found());
  // Certificates are served to the namespaced install too (listed within the namespace):
  // the ACME Ingress in "shop" gets its Certificate, the one outside is never seen.
  REQUIRE(eventually([&] { return api.get(certificates, {"shop", "secure-tls"}).hasValue(); }));
  api.confineTo("");
  CHECK_FALSE(api.get(certificates, {"other", "elsewhere-tls"}));

  stop.cancel();
  runner.join();
  ::unlink(snapshot.c_str());
}
