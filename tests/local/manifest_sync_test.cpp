#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "operator/local/kinds.h"
#include "operator/local/local_client.h"
#include "operator/local/manifest_sync.h"

using namespace portico;
using namespace portico::local;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    char pattern[] = "/tmp/portico-local-test.XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
  }
};
const kube::Resource kServices = kube::resources::services();

std::string servicePort(MemoryKubeClient& api, const std::string& name) {
  auto service = api.get(kServices, {"default", name});
  return service ? std::to_string((*service)["spec"]["ports"][0].value("port", 0)) : "absent";
}
const char* kService = R"(apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
)";
}  // namespace

TEST_CASE("manifest sync: files create, update and delete objects; status survives updates") {
  TempDir dir;
  MemoryKubeClient api;
  ManifestSync sync(api, dir.path.string());
  dir.write("web.yaml", kService);
  auto report = sync.syncOnce();
  CHECK(report.created == 1);
  CHECK(servicePort(api, "web") == "80");

  // The operator writes status; a later edit of the file keeps it.
  auto stored = api.get(kServices, {"default", "web"});
  (*stored)["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "10.0.0.1"}}}}}}};
  REQUIRE(api.updateStatus(kServices, *stored));
  dir.write("web.yaml", std::string(kService).replace(std::string(kService).find("80"), 2, "81"));
  report = sync.syncOnce();
  CHECK(report.updated == 1);
  CHECK(servicePort(api, "web") == "81");
  CHECK(api.get(kServices, {"default", "web"})
            ->value("/status/loadBalancer/ingress/0/ip"_json_pointer, std::string()) == "10.0.0.1");

  // Unchanged files cost nothing.
  report = sync.syncOnce();
  CHECK(report.created + report.updated + report.deleted == 0);

  fs::remove(dir.path / "web.yaml");
  report = sync.syncOnce();
  CHECK(report.deleted == 1);
  CHECK(servicePort(api, "web") == "absent");
}

TEST_CASE("manifest sync: a file that does not parse keeps its previous objects") {
  TempDir dir;
  MemoryKubeClient api;
  ManifestSync sync(api, dir.path.string());
  dir.write("web.yaml", kService);
  sync.syncOnce();
  dir.write("web.yaml", "kind: Service\nmetadata: {name: [oops\n");
  auto report = sync.syncOnce();
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors[0].find("web.yaml") != std::string::npos);
  CHECK(report.deleted == 0);
  CHECK(servicePort(api, "web") == "80");
}

TEST_CASE("manifest sync: EndpointSlices of either version are stored as v1") {
  TempDir dir;
  MemoryKubeClient api;
  ManifestSync sync(api, dir.path.string());
  dir.write("slice.yaml",
            "apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\nmetadata: {name: s}\n"
            "addressType: IPv4\nendpoints: []\n");
  sync.syncOnce();
  CHECK(api.get({"discovery.k8s.io", "v1", "endpointslices", true}, {"default", "s"}));
}

TEST_CASE(
    "state directory: what the operator writes is saved, owner-only for Secrets, and restored") {
  TempDir manifests, state;
  {
    MemoryKubeClient api;
    ManifestSync sync(api, manifests.path.string());
    manifests.write("web.yaml", kService);
    sync.syncOnce();
    LocalKubeClient client(api, StateDir(state.path.string()));
    auto stored = client.get(kServices, {"default", "web"});
    (*stored)["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "10.0.0.1"}}}}}}};
    REQUIRE(client.updateStatus(kServices, *stored));
    REQUIRE(client.create(kube::resources::secrets(),
                          {{"apiVersion", "v1"},
                           {"kind", "Secret"},
                           {"metadata", {{"name", "cert"}, {"namespace", "default"}}},
                           {"type", "kubernetes.io/tls"},
                           {"data", {{"tls.key", "a2V5"}}}}));
  }
  StateDir dir(state.path.string());
  struct stat st {};
  REQUIRE(::stat(dir.pathOf(kube::resources::secrets(), {"default", "cert"}).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // A new process: manifests first, then the state directory.
  MemoryKubeClient api;
  ManifestSync sync(api, manifests.path.string());
  sync.syncOnce();
  LocalKubeClient client(api, StateDir(state.path.string()));
  REQUIRE(client.restoreState());
  CHECK(api.get(kServices, {"default", "web"})
            ->value("/status/loadBalancer/ingress/0/ip"_json_pointer, std::string()) == "10.0.0.1");
  auto cert = api.get(kube::resources::secrets(), {"default", "cert"});
  REQUIRE(cert);
  CHECK((*cert)["data"]["tls.key"] == "a2V5");
}

TEST_CASE("kinds: resources for manifest kinds") {
  CHECK(resourceFor("networking.k8s.io/v1", "Ingress")->resource == "ingresses");
  CHECK(resourceFor("networking.k8s.io/v1", "IngressClass")->resource == "ingressclasses");
  CHECK_FALSE(resourceFor("networking.k8s.io/v1", "IngressClass")->namespaced);
  CHECK(resourceFor("portico.io/v1alpha1", "IngressClassConfig")->resource ==
        "ingressclassconfigs");
  CHECK(resourceFor("v1", "Secret")->apiVersion() == "v1");
  CHECK(resourceFor("networking.k8s.io/v1", "NetworkPolicy")->resource == "networkpolicies");
  CHECK_FALSE(resourceFor("networking.k8s.io/v1beta1", "Ingress"));
}
