#include "tests/integration/cluster.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>

#include "operator/http/cpprest_transport.h"

namespace portico::it {
namespace {

std::string requiredEnv(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) {
    std::cerr << "integration tests need " << name
              << " (run them through tests/cluster/with-cluster.sh / meson test)\n";
    std::abort();
  }
  return value;
}

}  // namespace

const std::string& clusterDir() {
  static const std::string dir = requiredEnv("PORTICO_CLUSTER_DIR");
  return dir;
}

std::string sourceRoot() {
  return requiredEnv("PORTICO_SOURCE_ROOT");
}
std::string porticoBinary() {
  return requiredEnv("PORTICO_BIN");
}

std::string kubeconfigPath(const std::string& apiserver) {
  return apiserver == "apiserver" ? clusterDir() + "/kubeconfig"
                                  : clusterDir() + "/" + apiserver + ".kubeconfig";
}

std::unique_ptr<kube::KubeClient> adminClient(const std::string& apiserver) {
  auto config = kube::loadKubeconfig(kubeconfigPath(apiserver));
  if (!config) {
    std::cerr << config.error().toString() << "\n";
    std::abort();
  }
  kube::ClientOptions options;
  options.max_retries = 2;
  return kube::connect(*config, http::makeCpprestTransport, options);
}

int run(const std::string& command, std::string* output) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buffer;
  std::string out;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  int status = pclose(pipe);
  if (output) *output = std::move(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int kubectl(const std::string& args, std::string* output) {
  return run("kubectl --kubeconfig " + kubeconfigPath() + " " + args + " 2>/dev/null", output);
}

void killApiserver(const std::string& name) {
  run(sourceRoot() + "/tests/cluster/stop.sh " + clusterDir() + " --apiserver " + name);
}

void startApiserver(const std::string& name) {
  if (run(sourceRoot() + "/tests/cluster/start.sh " + clusterDir() + " --apiserver " + name +
          " >&2") != 0) {
    std::cerr << "could not start " << name << "\n";
    std::abort();
  }
}

kube::Json configMap(const std::string& ns, const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"namespace", ns}, {"name", name}}},
          {"data", {{"value", value}}}};
}

std::string freshNamespace(kube::KubeClient& client, const std::string& prefix) {
  static std::mt19937 rng{std::random_device{}()};
  std::string name = prefix + "-" + std::to_string(rng() % 1000000);
  auto created =
      client.create(kube::resources::namespaces(),
                    {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
  if (!created) {
    std::cerr << "namespace " << name << ": " << created.error().toString() << "\n";
    std::abort();
  }
  return name;
}

}  // namespace portico::it
