#include "operator/commands/debug_commands.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <set>

#include "operator/base/log.h"
#include "operator/base/thread_annotations.h"
#include "operator/commands/termination_watch.h"
#include "operator/http/cpprest_transport.h"
#include "operator/kube/client.h"
#include "operator/kube/leader_election.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/manager.h"

namespace portico::commands {
namespace {

std::unique_ptr<kube::KubeClient> connectOrExplain(const ConnectionFlags& flags) {
  auto config = kube::resolveConfig(flags.kubeconfig, flags.context);
  if (!config) {
    std::cerr << "portico: " << config.error().message() << "\n";
    return nullptr;
  }
  return kube::connect(*config, http::makeCpprestTransport);
}

// "v1/configmaps" or "group/version/resource".
bool parseResource(const std::string& text, bool cluster_scoped, kube::Resource& out) {
  auto first = text.find('/');
  if (first == std::string::npos) return false;
  auto second = text.find('/', first + 1);
  if (second == std::string::npos) {
    out = {"", text.substr(0, first), text.substr(first + 1), !cluster_scoped};
  } else {
    out = {text.substr(0, first), text.substr(first + 1, second - first - 1),
           text.substr(second + 1), !cluster_scoped};
  }
  return !out.version.empty() && !out.resource.empty() &&
         out.resource.find('/') == std::string::npos;
}

void printLine(const std::string& line) {
  static Mutex mutex;
  MutexLock lock(mutex);
  std::cout << line << std::endl;
}

}  // namespace

int runDiscovery(const ConnectionFlags& flags) {
  auto client = connectOrExplain(flags);
  if (!client) return 1;
  auto served = client->serverGroupVersions();
  if (!served) {
    std::cerr << "portico: cannot reach the API server: " << served.error().toString() << "\n";
    return 1;
  }
  std::set<std::string> all;
  for (const auto& gv : *served) all.insert(gv.toString());
  std::cout << "The API server serves " << all.size() << " group/versions.\n";
  struct Need {
    const char* group_version;
    const char* why;
  };
  const Need needs[] = {
      {"v1", "Services, Secrets, Events"},
      {"networking.k8s.io/v1", "Ingress, IngressClass"},
      {"discovery.k8s.io/v1", "EndpointSlice (preferred)"},
      {"discovery.k8s.io/v1beta1", "EndpointSlice (fallback for Kubernetes < 1.21)"},
      {"coordination.k8s.io/v1", "Lease leader election"},
      {"apiextensions.k8s.io/v1", "Portico's CRDs"},
  };
  for (const auto& need : needs)
    std::cout << (all.count(need.group_version) ? "  served   " : "  missing  ")
              << need.group_version << "  (" << need.why << ")\n";
  return 0;
}

int runWatch(const ConnectionFlags& flags, const WatchFlags& watch) {
  kube::Resource resource;
  if (!parseResource(watch.resource, watch.cluster_scoped, resource)) {
    std::cerr
        << "portico: resource must look like v1/configmaps or networking.k8s.io/v1/ingresses\n";
    return 2;
  }
  auto client = connectOrExplain(flags);
  if (!client) return 1;
  runtime::InformerOptions options;
  options.namespace_ = watch.namespace_;
  auto informer = std::make_shared<runtime::Informer<kube::Json>>(*client, resource, options);
  TerminationWatch signals;
  CancelSource& stop = signals.stop();
  std::atomic<int> events{0};
  auto emit = [&](const char* what, const ObjectKey& key, const kube::Json& obj) {
    std::string line = std::string("{\"event\":\"") + what + "\",\"key\":\"" + key.toString() +
                       "\",\"resourceVersion\":\"" + obj["metadata"].value("resourceVersion", "") +
                       "\"}";
    printLine(line);
    if (watch.max_events > 0 && ++events >= watch.max_events) stop.cancel();
  };
  informer->addHandlers({
      [&](const ObjectKey& key, const auto& obj) { emit("add", key, *obj); },
      [&](const ObjectKey& key, const auto&, const auto& obj) { emit("update", key, *obj); },
      [&](const ObjectKey& key, const auto& obj) { emit("delete", key, *obj); },
  });
  runtime::Manager manager(nullptr, {});
  manager.addCache(informer);
  Status status = manager.run(stop);
  if (!status) {
    std::cerr << "portico: " << status.toString() << "\n";
    return 1;
  }
  return 0;
}

int runLease(const ConnectionFlags& flags, const LeaseFlags& lease) {
  auto client = connectOrExplain(flags);
  if (!client) return 1;
  kube::LeaderElectionConfig config;
  config.lease = {lease.namespace_, lease.name};
  config.identity = lease.identity;
  if (config.identity.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    config.identity = std::string(host) + "-" + std::to_string(getpid());
  }
  config.lease_duration = lease.lease_duration;
  config.renew_deadline = lease.renew_deadline;
  config.retry_period = lease.retry_period;
  const std::string identity = config.identity;
  kube::LeaderElector elector(
      *client, SystemClock::instance(), config,
      {[&] { printLine("leading " + identity); }, [&] { printLine("stopped " + identity); },
       [&](const std::string& holder) {
         if (holder != identity) printLine("following " + holder);
       }});
  TerminationWatch signals;
  elector.run(signals.stop());
  return 0;
}

}  // namespace portico::commands
