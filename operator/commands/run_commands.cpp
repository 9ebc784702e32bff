#include "operator/commands/run_commands.h"

#include <malloc.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "controllers/control_plane.h"
#include "operator/base/log.h"
#include "operator/base/metrics.h"
#include "operator/commands/data_plane.h"
#include "operator/commands/health_server.h"
#include "operator/commands/proxy_metrics.h"
#include "operator/commands/termination_watch.h"
#include "operator/http/cpprest_transport.h"
#include "operator/kube/config.h"
#include "operator/local/kinds.h"
#include "operator/local/local_client.h"
#include "operator/local/manifest_sync.h"
#include "operator/runtime/manager.h"

namespace portico::commands {

namespace {

std::string defaultIdentity() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(getpid());
}

// The proxy's limits and timeouts come from the class's IngressClassConfig.
proxy::ProxySettings settingsFrom(const crds::ProxyTuning& tuning) {
  proxy::ProxySettings s;
  s.header_timeout = std::chrono::seconds(tuning.header_timeout_seconds);
  s.idle_timeout = std::chrono::seconds(tuning.idle_timeout_seconds);
  s.connect_timeout = std::chrono::seconds(tuning.connect_timeout_seconds);
  s.upstream_timeout = std::chrono::seconds(tuning.upstream_timeout_seconds);
  s.body_timeout = std::chrono::seconds(tuning.upstream_timeout_seconds);
  s.max_head_bytes = static_cast<size_t>(tuning.max_header_bytes);
  s.max_body_bytes = static_cast<uint64_t>(tuning.max_body_bytes);
  s.access_log = tuning.access_log;
  s.server_header = tuning.server_header;
  return s;
}

// Runs the control plane and (unless disabled) the embedded proxy until SIGTERM/SIGINT.
int runPlanes(kube::KubeClient& client, controllers::ControlPlaneOptions options,
              const RunFlags& run, CancelSource& stop, const CancelSource& hurry) {
  options.selection.controller = run.controller_name;
  options.selection.ingress_class = run.ingress_class;
  options.publisher.debounce = std::chrono::milliseconds(run.debounce_ms);
  options.certificates.transport_factory = [](const TlsSettings& tls) {
    return http::makeCpprestTransport(tls);
  };
  auto plane = controllers::ControlPlane::create(client, options);
  if (!plane) {
    std::cerr << "portico: " << plane.error().message() << "\n";
    return 1;
  }
  auto& control = **plane;
  std::optional<DataPlane> data;
  auto registry = metrics::registry();
  auto gauge = [&](const char* name, const char* help) -> prometheus::Gauge& {
    return prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add({});
  };
  auto& ingresses = gauge("portico_ingresses_served", "Ingresses served by this class");
  auto& routes = gauge("portico_routes", "Routes in the published snapshot");
  auto& problems =
      gauge("portico_route_problems", "Ingress rules that cannot be served as written");
  auto& compiles = prometheus::BuildCounter()
                       .Name("portico_route_compiles_total")
                       .Help("Route compilations since start")
                       .Register(*registry)
                       .Add({});
  auto& leader = gauge("portico_leader", "1 while this replica holds the leader Lease");
  auto& status_writes =
      prometheus::BuildCounter()
          .Name("portico_status_writes_total")
          .Help("Ingress and IngressClassConfig status patches this replica wrote")
          .Register(*registry)
          .Add({});
  auto& ready = gauge("portico_ready", "1 once caches are synced and a snapshot is served");
  // Set once the embedded proxy exists; read by the health thread.
  std::atomic<const DataPlane*> serving_plane{nullptr};
  auto is_ready = [&] {
    const DataPlane* data_plane = serving_plane.load();
    return control.ready() && (!run.embedded_proxy || (data_plane && data_plane->serving()));
  };
  HealthServer health(is_ready, [&] {
    if (auto published = control.publisher().current()) {
      ingresses.Set(static_cast<double>(published->built.ingresses.size()));
      routes.Set(static_cast<double>(published->built.compiled.table.routes().size()));
      problems.Set(static_cast<double>(published->built.compiled.problems.size()));
    }
    // A counter only goes up: add what was compiled since the last scrape.
    compiles.Increment(static_cast<double>(control.publisher().compileCount()) - compiles.Value());
    leader.Set(control.isLeader() ? 1 : 0);
    status_writes.Increment(static_cast<double>(control.statusWrites()) - status_writes.Value());
    ready.Set(is_ready() ? 1 : 0);
  });
  if (!run.metrics_address.empty()) {
    if (Status st = health.start(run.metrics_address); !st) {
      std::cerr << "portico: " << st.message() << "\n";
      return 1;
    }
  }

  Status control_status;
  std::thread control_thread([&] {
    control_status = control.run(stop);
    stop.cancel();  // a control plane that cannot run (caches never synced) ends the process
  });

  Status data_status;
  std::shared_ptr<prometheus::Collectable> proxy_metrics;  // scraped while the proxy runs
  if (run.embedded_proxy) {
    // The proxy's settings come from the class's config: wait for the first publication.
    while (!stop.cancelled() && !control.publisher().current())
      stop.sleepFor(std::chrono::milliseconds(5));
    if (!stop.cancelled()) {
      auto published = control.publisher().current();
      crds::IngressClassConfigSpec spec =
          published->built.applied_spec.value_or(crds::IngressClassConfigSpec{});
      DataPlaneOptions data_options{options.snapshot_path,
                                    run.http_address,
                                    run.http_port,
                                    run.https_port,
                                    static_cast<int>(spec.proxy.workers),
                                    settingsFrom(spec.proxy),
                                    proxy::ExplicitSettings{}};
      data_options.shutdown_delay =
          std::chrono::milliseconds(static_cast<int64_t>(run.shutdown_delay_seconds * 1000));
      data_options.shutdown_grace =
          std::chrono::milliseconds(static_cast<int64_t>(run.shutdown_grace_seconds * 1000));
      data.emplace(std::move(data_options));
      // Propagation: the earliest Kubernetes change in a generation → the workers have it.
      data->onAdopted([&control](uint64_t generation) {
        if (auto changed_at = control.publisher().changeTimeOf(generation))
          metrics::recordSnapshotPropagation(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - *changed_at)
                  .count());
      });
      proxy_metrics = makeProxyMetrics(*data);
      metrics::addCollectable(proxy_metrics);
      serving_plane = &*data;
      data_status = data->run(
          stop,
          [](const std::string& listening) {
            std::cout << "listening on " << listening << std::endl;
          },
          &hurry);
      if (!data_status) stop.cancel();
    }
  }
  control_thread.join();
  health.stop();
  for (const Status& st : {control_status, data_status}) {
    if (!st && st.code() != ErrorCode::Cancelled) {
      std::cerr << "portico: " << st.message() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace

int runOperator(const OperatorFlags& flags) {
  TerminationWatch signals;
  CancelSource& stop = signals.stop();
  auto config = kube::resolveConfig(flags.connection.kubeconfig, flags.connection.context);
  if (!config) {
    std::cerr << "portico: " << config.error().message() << "\n";
    return 1;
  }
  auto client = kube::connect(*config, http::makeCpprestTransport);

  controllers::ControlPlaneOptions options;
  options.identity = flags.identity.empty() ? defaultIdentity() : flags.identity;
  options.watch_namespace = flags.watch_namespace;
  options.snapshot_path =
      flags.run.snapshot_path.empty() ? "/tmp/portico-routes.snapshot" : flags.run.snapshot_path;
  // The operator's own namespace (the Deployment passes it): the leader Lease and the default
  // ACME account-key Secrets live there.
  const std::string own_namespace =
      std::getenv("POD_NAMESPACE") ? std::getenv("POD_NAMESPACE") : "default";
  options.certificates.account_namespace = own_namespace;
  if (!flags.replicas_service.empty()) {
    options.replicas_service = ObjectKey::parse(flags.replicas_service);
    if (options.replicas_service->namespace_.empty())
      options.replicas_service->namespace_ = own_namespace;
    if (!flags.watch_namespace.empty() &&
        flags.watch_namespace != options.replicas_service->namespace_)
      log::warn(
          "--replicas-service is outside --watch-namespace: its EndpointSlices are not "
          "watched, so HTTP-01 challenges are not checked on every replica",
          {{"service", options.replicas_service->toString()}});
  }
  if (flags.leader_elect) {
    kube::LeaderElectionConfig lease;
    std::string ns = flags.lease_namespace;
    if (ns.empty()) ns = own_namespace;
    lease.lease = {ns, flags.lease_name};
    lease.identity = options.identity;
    lease.lease_duration = flags.lease_duration;
    lease.renew_deadline = flags.renew_deadline;
    lease.retry_period = flags.retry_period;
    options.leader_election = lease;
  }
  log::info("operator starting", {{"identity", options.identity},
                                  {"server", config->server},
                                  {"snapshot", options.snapshot_path},
                                  {"leaderElection", flags.leader_elect ? "on" : "off"},
                                  {"replicasService", flags.replicas_service}});
  return runPlanes(*client, options, flags.run, stop, signals.hurry());
}

int runLocal(const LocalFlags& flags) {
  TerminationWatch signals;
  CancelSource& stop = signals.stop();
  std::error_code ec;
  std::filesystem::create_directories(flags.state_dir, ec);
  if (ec) {
    std::cerr << "portico: " << flags.state_dir << ": " << ec.message() << "\n";
    return 1;
  }
  local::MemoryKubeClient memory;
  memory.setServedGroupVersions(local::localGroupVersions());
  local::ManifestSync sync(memory, flags.manifests_dir);
  auto first = sync.syncOnce();
  if (!first.errors.empty() && first.created == 0) {
    std::cerr << "portico: nothing loaded from " << flags.manifests_dir << "\n";
    return 1;
  }
  local::LocalKubeClient client(memory, local::StateDir(flags.state_dir));
  if (Status st = client.restoreState(); !st)
    log::warn("state directory not restored", {{"error", st.toString()}});
  sync.onDeleted(
      [&client](const kube::Resource& r, const ObjectKey& key) { client.forget(r, key); });

  controllers::ControlPlaneOptions options;
  options.identity = "portico-local";
  options.snapshot_path = flags.run.snapshot_path.empty() ? flags.state_dir + "/routes.snapshot"
                                                          : flags.run.snapshot_path;
  // After many objects went away (and the controllers let go of them, a few seconds later),
  // the freed heap goes back to the system, which glibc does not do by itself: `portico local`
  // under churn stays at its working size.
  std::atomic<bool> trim_wanted{false};
  local::DirectoryWatcher watcher(flags.manifests_dir, [&] {
    if (sync.syncOnce().deleted >= 100) trim_wanted = true;
  });
  std::thread watch_thread([&] { watcher.run(stop); });
  std::thread trim_thread([&] {
    while (stop.sleepFor(std::chrono::seconds(5))) {
      if (trim_wanted.exchange(false)) ::malloc_trim(0);
      client.retryUnsaved();  // writes a full disk refused, once there is space again
    }
  });
  log::info("local mode", {{"manifests", flags.manifests_dir},
                           {"state", flags.state_dir},
                           {"snapshot", options.snapshot_path}});
  int code = runPlanes(client, options, flags.run, stop, signals.hurry());
  stop.cancel();
  watch_thread.join();
  trim_thread.join();
  return code;
}

}  // namespace portico::commands
