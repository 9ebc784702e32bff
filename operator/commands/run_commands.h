// `portico operator` (against a Kubernetes API server) and `portico local` (the embedded
// default: manifests in a directory, no cluster). Both run the same ControlPlane and, unless
// disabled, the embedded DataPlane on the snapshot file the control plane publishes.
#pragma once

#include <chrono>
#include <string>

#include "operator/commands/debug_commands.h"

namespace portico::commands {

struct RunFlags {
  std::string ingress_class;  // "" = our default class, else the first of ours by name
  std::string controller_name = "portico.io/ingress-controller";
  std::string snapshot_path;    // "" = a default per command
  bool embedded_proxy = true;   // false: publish the snapshot only (`portico proxy` serves it)
  int http_port = -1;           // overrides of the class's listeners (-1: the config's)
  int https_port = -1;          // -2: no TLS listener
  std::string http_address;     // "" = the config's
  std::string metrics_address;  // host:port for /metrics, /healthz, /readyz; "" = none
  int debounce_ms = 5;
  double shutdown_delay_seconds = 0;  // graceful shutdown of the embedded proxy (DataPlaneOptions)
  double shutdown_grace_seconds = 25;
};

struct OperatorFlags {
  ConnectionFlags connection;
  RunFlags run;
  bool leader_elect = false;
  std::string lease_namespace;  // "" = $POD_NAMESPACE, else "default"
  std::string lease_name = "portico-leader";
  std::string identity;  // "" = hostname-pid
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
  std::string watch_namespace;
  // "namespace/name" (or "name" in $POD_NAMESPACE) of the operator's own Service: its ready
  // endpoints are the replicas that must answer an HTTP-01 challenge before the CA is asked.
  std::string replicas_service;
};

struct LocalFlags {
  std::string manifests_dir;
  std::string state_dir = "portico-state";
  RunFlags run;
};

int runOperator(const OperatorFlags& flags);
int runLocal(const LocalFlags& flags);

}  // namespace portico::commands
