// Manager: owns the process's runnables and their order.
//  start: caches (informers) → wait until every cache has synced → runnables (controllers) →
//         leader election; leader-only runnables run only while this replica holds the Lease.
//  stop (SIGTERM or cancel): leader-only work → Lease released → runnables → caches.
// Losing the Lease stops leader-only work at once; it starts again if the Lease comes back.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "operator/base/clock.h"
#include "operator/base/thread_annotations.h"
#include "operator/kube/leader_election.h"
#include "operator/runtime/runnable.h"

namespace portico::runtime {

struct ManagerOptions {
  std::optional<kube::LeaderElectionConfig> leader_election;  // none: this replica always leads
  std::chrono::milliseconds cache_sync_timeout{120000};
};

class Manager {
public:
  // `client` is used for leader election only; it may be null without leader election.
  Manager(kube::KubeClient* client, ManagerOptions options,
          const Clock& clock = SystemClock::instance());
  ~Manager();

  void addCache(std::shared_ptr<SyncedRunnable> cache);
  void add(std::shared_ptr<Runnable> runnable);
  void addLeaderOnly(std::shared_ptr<Runnable> runnable);

  // Starts everything and blocks until `stop` fires, then shuts down in order.
  // Fails (after stopping what started) if the caches do not sync in time.
  Status run(CancelSource& stop);

  bool cachesSynced() const { return caches_synced_.load(); }
  bool isLeader() const { return leading_.load(); }

private:
  struct Group {
    std::unique_ptr<CancelSource> cancel;
    std::vector<std::thread> threads;
  };
  static void startGroup(Group& group, const std::vector<std::shared_ptr<Runnable>>& runnables);
  static void stopGroup(Group& group);
  void startLeaderWork();
  void stopLeaderWork();

  kube::KubeClient* client_;
  ManagerOptions options_;
  const Clock& clock_;
  std::vector<std::shared_ptr<SyncedRunnable>> caches_;
  std::vector<std::shared_ptr<Runnable>> runnables_;
  std::vector<std::shared_ptr<Runnable>> leader_runnables_;

  Mutex leader_mutex_;
  Group leader_group_ GUARDED_BY(leader_mutex_);
  std::atomic<bool> leading_{false};
  std::atomic<bool> caches_synced_{false};
};

// Termination signals: block SIGTERM/SIGINT in every thread (call first thing in main, before
// any thread starts), then a watcher thread turns the first into stop.cancel() (a graceful
// shutdown) and a second into hurry.cancel() (stop draining now). The watcher ends once `hurry`
// is cancelled: cancel it when the command returns.
void blockTerminationSignals();
std::thread watchTerminationSignals(CancelSource& stop, CancelSource& hurry);

}  // namespace portico::runtime
