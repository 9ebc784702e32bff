// portico: wiring only — parse the command line, hand off to the subcommand. No test links this.
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

#include "operator/base/log.h"
#include "operator/commands/debug_commands.h"
#include "operator/commands/proxy_command.h"
#include "operator/commands/run_commands.h"
#include "operator/commands/snapshot_commands.h"
#include "operator/runtime/manager.h"
#include "portico_version.h"

namespace {

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread starts, so only the signal watcher thread sees SIGTERM/SIGINT.
  portico::runtime::blockTerminationSignals();
  // A peer that goes away must be an error on that socket, not the end of the process
  // (OpenSSL writes with write(2), where MSG_NOSIGNAL cannot be passed).
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{
      "Portico: a Kubernetes Ingress controller with built-in ACME certificates and the "
      "reverse proxy it programs."};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));

  auto* version = app.add_subcommand("version", "Print the version");

  auto* debug = app.add_subcommand("debug", "Diagnostics against a Kubernetes cluster");
  debug->require_subcommand(1);
  portico::commands::ConnectionFlags conn;
  auto add_connection = [&conn](CLI::App* cmd) {
    cmd->add_option("--kubeconfig", conn.kubeconfig,
                    "kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)");
    cmd->add_option("--context", conn.context, "kubeconfig context (default: current-context)");
  };
  auto* discovery = debug->add_subcommand("discovery", "Show which APIs Portico needs are served");
  add_connection(discovery);

  portico::commands::WatchFlags watch;
  auto* watch_cmd = debug->add_subcommand("watch", "Run an informer and print every change");
  add_connection(watch_cmd);
  watch_cmd
      ->add_option("resource", watch.resource, "v1/configmaps, networking.k8s.io/v1/ingresses, ...")
      ->required();
  watch_cmd->add_option("-n,--namespace", watch.namespace_, "namespace (default: all)");
  watch_cmd->add_flag("--cluster-scoped", watch.cluster_scoped, "the resource is cluster-scoped");
  watch_cmd->add_option("--max-events", watch.max_events, "exit after this many changes");

  portico::commands::LeaseFlags lease;
  double lease_duration = 15, renew_deadline = 10, retry_period = 2;
  auto* lease_cmd = debug->add_subcommand("lease", "Compete for a Lease and report leadership");
  add_connection(lease_cmd);
  lease_cmd->add_option("-n,--namespace", lease.namespace_, "Lease namespace");
  lease_cmd->add_option("--name", lease.name, "Lease name");
  lease_cmd->add_option("--identity", lease.identity, "this candidate's identity");
  lease_cmd->add_option("--lease-duration", lease_duration, "seconds");
  lease_cmd->add_option("--renew-deadline", renew_deadline, "seconds");
  lease_cmd->add_option("--retry-period", retry_period, "seconds");

  std::string manifests_dir, out_path, snapshot_path, host, path = "/";
  auto* snapshot =
      app.add_subcommand("snapshot", "Compile manifests into a route snapshot, or show one");
  snapshot->require_subcommand(1);
  auto* compile =
      snapshot->add_subcommand("compile", "Compile Ingress manifests into a snapshot file");
  compile->add_option("--manifests", manifests_dir, "directory of *.yaml/*.yml/*.json manifests")
      ->required()
      ->check(CLI::ExistingDirectory);
  compile->add_option("--out", out_path, "snapshot file to write (mode 0600)")->required();
  std::vector<std::string> acme_tokens;
  compile->add_option(
      "--acme-token", acme_tokens,
      "TOKEN=KEY_AUTHORIZATION the proxy answers at /.well-known/acme-challenge/TOKEN "
      "(repeatable; for testing without a cluster)");
  auto* dump =
      snapshot->add_subcommand("dump", "Print a snapshot file as JSON (private keys redacted)");
  dump->add_option("path", snapshot_path, "snapshot file")->required();

  auto* explain = app.add_subcommand(
      "explain", "Which Ingress, rule, backend and certificate would serve a request, and why");
  explain->add_option("--manifests", manifests_dir, "directory of manifests")
      ->required()
      ->check(CLI::ExistingDirectory);
  std::string explain_state_dir;
  explain
      ->add_option("--state", explain_state_dir,
                   "a `portico local` state directory: its Secrets (issued certificates) too")
      ->check(CLI::ExistingDirectory);
  explain->add_option("--host", host, "request Host")->required();
  explain->add_option("--path", path, "request path (default /)");

  portico::commands::ProxyFlags proxy_flags;
  double header_timeout = 30, idle_timeout = 60, connect_timeout = 5, upstream_timeout = 60;
  auto* proxy = app.add_subcommand("proxy", "Run the data plane alone, serving a snapshot file");
  proxy->add_option("--snapshot", proxy_flags.snapshot_path, "snapshot file to follow")->required();
  proxy->add_option("--http-address", proxy_flags.http_address,
                    "listen address (default: the snapshot's)");
  proxy->add_option("--http-port", proxy_flags.http_port,
                    "listen port (default: the snapshot's; 0: any free)");
  proxy->add_option("--https-port", proxy_flags.https_port,
                    "TLS listen port (default: the snapshot's; 0: any free; -2: none)");
  proxy->add_option("--workers", proxy_flags.workers, "worker threads (default: one per core)");
  auto* header_timeout_opt = proxy->add_option("--header-timeout", header_timeout,
                                               "seconds for a request head to arrive (408)");
  auto* idle_timeout_opt = proxy->add_option("--idle-timeout", idle_timeout,
                                             "seconds an idle keep-alive connection is kept");
  auto* connect_timeout_opt = proxy->add_option("--connect-timeout", connect_timeout,
                                                "seconds to connect to an upstream endpoint");
  auto* upstream_timeout_opt = proxy->add_option("--upstream-timeout", upstream_timeout,
                                                 "seconds of upstream silence before 504");
  auto* max_head_opt = proxy->add_option("--max-head-bytes", proxy_flags.settings.max_head_bytes,
                                         "request head limit (431)");
  auto* max_body_opt = proxy->add_option("--max-body-bytes", proxy_flags.settings.max_body_bytes,
                                         "request body limit (413); 0: none");
  auto* access_log_opt = proxy->add_flag("--access-log", proxy_flags.settings.access_log,
                                         "log one JSON line per request");
  proxy->add_flag("--http2", proxy_flags.settings.http2,
                  "offer HTTP/2 (ALPN h2) on the HTTPS listener (experimental)");
  proxy->add_option("--metrics-address", proxy_flags.metrics_address,
                    "host:port serving /metrics, /healthz and /readyz");
  double proxy_shutdown_delay = 0, proxy_shutdown_grace = 25;
  proxy->add_option("--shutdown-delay", proxy_shutdown_delay,
                    "on SIGTERM, seconds to keep accepting (not ready, draining) before the "
                    "listeners close");
  proxy->add_option("--shutdown-grace", proxy_shutdown_grace,
                    "on SIGTERM, seconds requests in flight and WebSockets get to finish");

  // Shared by `operator` and `local`.
  auto add_run_flags = [](CLI::App* cmd, portico::commands::RunFlags& run) {
    cmd->add_option("--ingress-class", run.ingress_class,
                    "IngressClass to serve (default: ours marked default, else the first by name)");
    cmd->add_option("--controller-name", run.controller_name,
                    "IngressClass spec.controller value that means Portico");
    cmd->add_option("--snapshot", run.snapshot_path, "route snapshot file to publish (mode 0600)");
    cmd->add_flag("!--no-proxy", run.embedded_proxy,
                  "publish the snapshot only; a separate `portico proxy` serves it");
    cmd->add_option("--http-address", run.http_address, "listen address (default: the config's)");
    cmd->add_option("--http-port", run.http_port, "HTTP port (default: the config's; 0: any free)");
    cmd->add_option("--https-port", run.https_port,
                    "HTTPS port (default: the config's; 0: any free; -2: none)");
    cmd->add_option("--metrics-address", run.metrics_address,
                    "host:port serving /metrics, /healthz and /readyz");
    cmd->add_option("--debounce-ms", run.debounce_ms,
                    "quiet time before a change is compiled (bounded by 50 ms)");
    cmd->add_option("--shutdown-delay", run.shutdown_delay_seconds,
                    "on SIGTERM, seconds the proxy keeps accepting (not ready, draining) before "
                    "its listeners close");
    cmd->add_option("--shutdown-grace", run.shutdown_grace_seconds,
                    "on SIGTERM, seconds requests in flight and WebSockets get to finish");
  };

  portico::commands::OperatorFlags operator_flags;
  double op_lease_duration = 15, op_renew_deadline = 10, op_retry_period = 2;
  auto* operator_cmd = app.add_subcommand(
      "operator", "Run the controllers and the embedded proxy against a Kubernetes cluster");
  add_connection(operator_cmd);
  add_run_flags(operator_cmd, operator_flags.run);
  operator_cmd->add_flag("--leader-elect", operator_flags.leader_elect,
                         "only the Lease holder writes status (every replica serves traffic)");
  operator_cmd->add_option("--lease-namespace", operator_flags.lease_namespace,
                           "namespace of the leader Lease (default: $POD_NAMESPACE or default)");
  operator_cmd->add_option("--lease-name", operator_flags.lease_name, "name of the leader Lease");
  operator_cmd->add_option("--identity", operator_flags.identity,
                           "this replica's identity (default: hostname-pid)");
  operator_cmd->add_option("--lease-duration", op_lease_duration, "seconds");
  operator_cmd->add_option("--renew-deadline", op_renew_deadline, "seconds");
  operator_cmd->add_option("--retry-period", op_retry_period, "seconds");
  operator_cmd->add_option("--watch-namespace", operator_flags.watch_namespace,
                           "watch Ingresses, Services and EndpointSlices in one namespace only");
  operator_cmd->add_option(
      "--replicas-service", operator_flags.replicas_service,
      "[namespace/]name of the Service in front of the replicas: the CA is asked to validate "
      "an HTTP-01 challenge once every ready endpoint of it (port \"http\") answers it");

  portico::commands::LocalFlags local_flags;
  auto* local_cmd = app.add_subcommand(
      "local", "Run everything on manifests in a directory, no cluster (the embedded default)");
  local_cmd
      ->add_option("--manifests", local_flags.manifests_dir, "directory of manifests (watched)")
      ->required()
      ->check(CLI::ExistingDirectory);
  local_cmd->add_option("--state", local_flags.state_dir,
                        "directory for what the operator writes: status, Secrets, Events");
  add_run_flags(local_cmd, local_flags.run);

  CLI11_PARSE(app, argc, argv);
  portico::log::Level level;
  if (portico::log::parseLevel(log_level, level)) portico::log::setLevel(level);

  if (*version) {
    std::cout << "portico " << PORTICO_VERSION << "\n";
    return 0;
  }
  if (*proxy) {
    proxy_flags.settings.header_timeout = millis(header_timeout);
    proxy_flags.settings.idle_timeout = millis(idle_timeout);
    proxy_flags.settings.connect_timeout = millis(connect_timeout);
    proxy_flags.settings.upstream_timeout = millis(upstream_timeout);
    proxy_flags.settings.body_timeout = millis(upstream_timeout);
    // Flags given here win over the class settings a snapshot carries; the others are defaults.
    auto& given = proxy_flags.explicit_settings;
    given.header_timeout = header_timeout_opt->count() > 0;
    given.idle_timeout = idle_timeout_opt->count() > 0;
    given.connect_timeout = connect_timeout_opt->count() > 0;
    given.upstream_timeout = upstream_timeout_opt->count() > 0;
    given.max_head_bytes = max_head_opt->count() > 0;
    given.max_body_bytes = max_body_opt->count() > 0;
    given.access_log = access_log_opt->count() > 0;
    proxy_flags.shutdown_delay = millis(proxy_shutdown_delay);
    proxy_flags.shutdown_grace = millis(proxy_shutdown_grace);
    return portico::commands::runProxy(proxy_flags);
  }
  if (*operator_cmd) {
    operator_flags.connection = conn;
    operator_flags.lease_duration = millis(op_lease_duration);
    operator_flags.renew_deadline = millis(op_renew_deadline);
    operator_flags.retry_period = millis(op_retry_period);
    return portico::commands::runOperator(operator_flags);
  }
  if (*local_cmd) return portico::commands::runLocal(local_flags);
  if (*compile) return portico::commands::runSnapshotCompile(manifests_dir, out_path, acme_tokens);
  if (*dump) return portico::commands::runSnapshotDump(snapshot_path);
  if (*explain) return portico::commands::runExplain(manifests_dir, explain_state_dir, host, path);
  if (*discovery) return portico::commands::runDiscovery(conn);
  if (*watch_cmd) return portico::commands::runWatch(conn, watch);
  if (*lease_cmd) {
    lease.lease_duration = millis(lease_duration);
    lease.renew_deadline = millis(renew_deadline);
    lease.retry_period = millis(retry_period);
    return portico::commands::runLease(conn, lease);
  }
  return 0;
}
