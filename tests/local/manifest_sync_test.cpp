#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

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
// What the operator writes of the manifests' Service "web": its status.
void writeServiceStatus(LocalKubeClient& client) {
  auto stored = client.get(kServices, {"default", "web"});
  REQUIRE(stored);
  (*stored)["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "10.0.0.1"}}}}}}};
  REQUIRE(client.updateStatus(kServices, *stored));
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

TEST_CASE("manifest sync: a file open for writing keeps its objects until it is closed") {
  TempDir dir;
  MemoryKubeClient api;
  ManifestSync sync(api, dir.path.string());
  dir.write("web.yaml", kService);
  dir.write("other.yaml", "");
  sync.syncOnce();
  REQUIRE(servicePort(api, "web") == "80");

  // `cat > web.yaml` as a shell does it: truncated at open, written, closed. A sync that runs
  // in between (prompted by any other file) must not read the empty or partial file.
  const std::string path = (dir.path / "web.yaml").string();
  int writer = ::open(path.c_str(), O_WRONLY | O_TRUNC);
  REQUIRE(writer >= 0);
  auto report = sync.syncOnce();
  CHECK(report.being_written == 1);
  CHECK(report.deleted == 0);
  CHECK(servicePort(api, "web") == "80");
  const std::string half = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n";
  REQUIRE(::write(writer, half.data(), half.size()) == static_cast<ssize_t>(half.size()));
  dir.write("other.yaml", "# touched\n");
  report = sync.syncOnce();
  CHECK(report.being_written == 1);
  CHECK(report.updated == 0);
  CHECK(servicePort(api, "web") == "80");

  const std::string rest = "spec: {ports: [{port: 8080}]}\n";
  REQUIRE(::write(writer, rest.data(), rest.size()) == static_cast<ssize_t>(rest.size()));
  ::close(writer);
  report = sync.syncOnce();
  CHECK(report.being_written == 0);
  CHECK(report.updated == 1);
  CHECK(servicePort(api, "web") == "8080");

  // Emptied on purpose (and closed): its objects go.
  dir.write("web.yaml", "");
  report = sync.syncOnce();
  CHECK(report.deleted == 1);
  CHECK(servicePort(api, "web") == "absent");
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
    writeServiceStatus(client);
    REQUIRE(client.create(kube::resources::secrets(),
                          {{"apiVersion", "v1"},
                           {"kind", "Secret"},
                           {"metadata", {{"name", "cert"}, {"namespace", "default"}}},
                           {"type", "kubernetes.io/tls"},
                           {"data", {{"tls.key", "a2V5"}}}}));
  }
  StateDir dir(state.path.string());
  struct stat st {};
  REQUIRE(::stat(dir.pathOf(kube::resources::secrets(), {"default", "cert"})->c_str(), &st) == 0);
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

TEST_CASE("state directory: a deleted manifest object does not come back after a restart") {
  TempDir manifests, state;
  {
    MemoryKubeClient api;
    ManifestSync sync(api, manifests.path.string());
    manifests.write("web.yaml", kService);
    sync.syncOnce();
    LocalKubeClient client(api, StateDir(state.path.string()));
    sync.onDeleted([&](const kube::Resource& r, const ObjectKey& key) { client.forget(r, key); });
    writeServiceStatus(client);
    // The state file holds the status only, never the manifest's spec.
    StateDir dir(state.path.string());
    auto loaded = dir.loadAll();
    REQUIRE(loaded);
    REQUIRE(loaded->size() == 1);
    CHECK_FALSE(loaded->front().second.contains("spec"));
    // The manifest goes while running: so does the stored status.
    fs::remove(manifests.path / "web.yaml");
    CHECK(sync.syncOnce().deleted == 1);
    CHECK(dir.loadAll()->empty());
  }
  // Deleted while Portico was down: the stub is removed at start, the object not re-created.
  {
    MemoryKubeClient api;
    ManifestSync sync(api, manifests.path.string());
    manifests.write("web.yaml", kService);
    sync.syncOnce();
    LocalKubeClient client(api, StateDir(state.path.string()));
    writeServiceStatus(client);
  }
  fs::remove(manifests.path / "web.yaml");
  MemoryKubeClient api;
  ManifestSync sync(api, manifests.path.string());
  sync.syncOnce();
  LocalKubeClient client(api, StateDir(state.path.string()));
  REQUIRE(client.restoreState());
  CHECK_FALSE(api.get(kServices, {"default", "web"}));
  CHECK(StateDir(state.path.string()).loadAll()->empty());
}

TEST_CASE("state directory: an old whole-object file of a manifest kind is not re-created") {
  TempDir manifests, state;
  fs::create_directories(state.path / "services.core" / "default");
  std::ofstream(state.path / "services.core" / "default" / "web.yaml")
      << "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\n"
         "spec: {ports: [{port: 80}]}\n";
  MemoryKubeClient api;
  ManifestSync sync(api, manifests.path.string());
  sync.syncOnce();
  LocalKubeClient client(api, StateDir(state.path.string()));
  REQUIRE(client.restoreState());
  CHECK_FALSE(api.get(kServices, {"default", "web"}));
}

TEST_CASE("state directory: names that are no DNS names never become paths") {
  TempDir state;
  StateDir dir(state.path.string());
  const char* bad_names[] = {"../../escape", "a/b", "..", "UPPER", "", "x\n"};
  for (const char* name : bad_names) {
    SUBCASE(name) {
      auto secret = kube::Json{{"apiVersion", "v1"},
                               {"kind", "Secret"},
                               {"metadata", {{"name", name}, {"namespace", "default"}}}};
      CHECK_FALSE(dir.write(kube::resources::secrets(), secret));
      CHECK_FALSE(dir.pathOf(kube::resources::secrets(), {"default", name}));
      MemoryKubeClient api;
      auto created = api.create(kube::resources::secrets(), secret);
      REQUIRE_FALSE(created);
      CHECK(created.error().code() == ErrorCode::Invalid);
    }
  }
  auto bad_namespace = kube::Json{{"apiVersion", "v1"},
                                  {"kind", "Secret"},
                                  {"metadata", {{"name", "ok"}, {"namespace", "../etc"}}}};
  CHECK_FALSE(dir.write(kube::resources::secrets(), bad_namespace));
  CHECK(fs::is_empty(state.path));
  CHECK_FALSE(fs::exists(state.path.parent_path() / "escape.yaml"));
}

TEST_CASE("state directory: a Secret is written 0600 and never through a planted link") {
  TempDir state, outside;
  StateDir dir(state.path.string());
  std::string path = *dir.pathOf(kube::resources::secrets(), {"default", "cert"});
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(outside.path / "target") << "untouched";
  fs::create_symlink(outside.path / "target", path + ".tmp");
  mode_t old_mask = ::umask(0);  // the mode must not depend on the umask
  Status written = dir.write(kube::resources::secrets(),
                             {{"apiVersion", "v1"},
                              {"kind", "Secret"},
                              {"metadata", {{"name", "cert"}, {"namespace", "default"}}},
                              {"data", {{"tls.key", "a2V5"}}}});
  ::umask(old_mask);
  REQUIRE(written);
  std::ifstream target(outside.path / "target");
  std::string content((std::istreambuf_iterator<char>(target)), {});
  CHECK(content == "untouched");
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);
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

TEST_CASE("memory API server: the watch history is bounded by bytes; a watcher behind it relists") {
  MemoryKubeClient api;
  const auto maps = kube::resources::configMaps();
  const std::string big(64 * 1024, 'x');
  const int64_t start = api.currentVersion();
  for (int i = 0; i < 1000; ++i) {  // 64 MiB of writes, twice the bound
    std::string name = "m" + std::to_string(i % 50);
    auto existing = api.get(maps, {"default", name});
    kube::Json object = existing
                            ? *existing
                            : kube::Json{{"apiVersion", "v1"},
                                         {"kind", "ConfigMap"},
                                         {"metadata", {{"name", name}, {"namespace", "default"}}}};
    object["data"] = {{"v", big + std::to_string(i)}};
    REQUIRE((existing ? api.update(maps, object) : api.create(maps, object)));
  }
  CHECK(api.historyBytes() <= MemoryKubeClient::kMaxHistoryBytes);
  CHECK(api.historyEvents() < 1000);
  CancelSource cancel;
  kube::WatchOptions from_start;
  from_start.resource_version = std::to_string(start);
  Status gone = api.watch(
      maps, "", from_start, [](kube::WatchEvent&&) { return true; }, cancel);
  CHECK(gone.code() == ErrorCode::Gone);
  // A watch from the current version still gets new events, parsed back from the history.
  kube::WatchOptions now;
  now.resource_version = std::to_string(api.currentVersion());
  now.timeout_seconds = 5;
  std::thread writer([&] {
    auto object = *api.get(maps, {"default", "m1"});
    object["data"] = {{"v", "small"}};
    (void)api.update(maps, object);
  });
  std::string seen;
  Status ended = api.watch(
      maps, "", now,
      [&](kube::WatchEvent&& event) {
        seen = event.object["data"].value("v", "");
        return false;
      },
      cancel);
  writer.join();
  CHECK(ended);
  CHECK(seen == "small");
}
