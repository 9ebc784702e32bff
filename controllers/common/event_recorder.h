// EventRecorder: core/v1 Events that tell a user why (a rejected rule, an invalid config). Events
// are best effort: a failure to record one is logged, never retried, never fatal.
#pragma once

#include <atomic>
#include <string>

#include "operator/base/clock.h"
#include "operator/kube/client.h"

namespace portico::controllers {

struct ObjectReference {
  std::string api_version;
  std::string kind;
  std::string namespace_;  // "" for cluster-scoped objects (see recordClusterScopedIn)
  std::string name;
  std::string uid;
};

class EventRecorder {
public:
  EventRecorder(kube::KubeClient& client, std::string component, std::string instance,
                const Clock& clock = SystemClock::instance());
  virtual ~EventRecorder() = default;

  // type: "Normal" or "Warning"; reason: CamelCase.
  virtual void record(const ObjectReference& object, const std::string& type,
                      const std::string& reason, const std::string& message);
  long recorded() const { return recorded_.load(); }
  // Where Events about cluster-scoped objects (an IngressClassConfig) go: "default" as client-go
  // does, or the watched namespace of a namespaced install (its Role reaches no other). Set
  // before the first record().
  void recordClusterScopedIn(std::string ns) { cluster_scoped_namespace_ = std::move(ns); }

private:
  kube::KubeClient& client_;
  std::string component_;
  std::string instance_;
  const Clock& clock_;
  std::string cluster_scoped_namespace_ = "default";
  std::atomic<long> recorded_{0};
  std::atomic<uint64_t> sequence_{0};
};

}  // namespace portico::controllers
