// `portico debug ...`: diagnostics that exercise the Kubernetes client and runtime directly
// against a cluster — what the server serves, a live informer view of one resource, and Lease
// leader election. Each returns the process exit code.
#pragma once

#include <chrono>
#include <string>

namespace portico::commands {

struct ConnectionFlags {
  std::string kubeconfig;
  std::string context;
};

// Prints the group/versions Portico needs and whether the server serves them.
int runDiscovery(const ConnectionFlags& flags);

struct WatchFlags {
  // "v1/configmaps", "networking.k8s.io/v1/ingresses"; cluster-scoped when `cluster_scoped`.
  std::string resource;
  std::string namespace_;
  bool cluster_scoped = false;
  int max_events = 0;  // stop after this many events (0 = until SIGTERM)
};

// Runs an informer and prints one JSON line per change:
// {"event":"add","key":..,"resourceVersion":..}.
int runWatch(const ConnectionFlags& flags, const WatchFlags& watch);

struct LeaseFlags {
  std::string namespace_ = "default";
  std::string name = "portico-leader";
  std::string identity;  // default: hostname + pid
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
};

// Competes for a Lease; prints "leading <identity>" / "following <holder>" / "stopped" lines.
int runLease(const ConnectionFlags& flags, const LeaseFlags& lease);

}  // namespace portico::commands
