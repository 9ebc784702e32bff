#include "operator/runtime/manager.h"

#include <signal.h>

#include "operator/base/log.h"
#include "operator/base/thread_annotations.h"

namespace portico::runtime {

Manager::Manager(kube::KubeClient* client, ManagerOptions options, const Clock& clock)
    : client_(client), options_(std::move(options)), clock_(clock) {}

Manager::~Manager() {
  stopLeaderWork();
}

void Manager::addCache(std::shared_ptr<SyncedRunnable> cache) {
  caches_.push_back(std::move(cache));
}
void Manager::add(std::shared_ptr<Runnable> runnable) {
  runnables_.push_back(std::move(runnable));
}
void Manager::addLeaderOnly(std::shared_ptr<Runnable> runnable) {
  leader_runnables_.push_back(std::move(runnable));
}

void Manager::startGroup(Group& group, const std::vector<std::shared_ptr<Runnable>>& runnables) {
  group.cancel = std::make_unique<CancelSource>();
  for (const auto& runnable : runnables) {
    CancelSource* cancel = group.cancel.get();
    group.threads.emplace_back([runnable, cancel] {
      log::debug("runnable started", {{"name", runnable->name()}});
      runnable->run(*cancel);
      log::debug("runnable stopped", {{"name", runnable->name()}});
    });
  }
}

void Manager::stopGroup(Group& group) {
  if (group.cancel) group.cancel->cancel();
  for (auto& t : group.threads)
    if (t.joinable()) t.join();
  group.threads.clear();
  group.cancel.reset();
}

void Manager::startLeaderWork() {
  MutexLock lock(leader_mutex_);
  if (leading_) return;
  leading_ = true;
  startGroup(leader_group_, leader_runnables_);
}

void Manager::stopLeaderWork() {
  MutexLock lock(leader_mutex_);
  if (!leading_) return;
  leading_ = false;  // no longer the leader from the moment leader-only work is told to stop
  stopGroup(leader_group_);
}

Status Manager::run(CancelSource& stop) {
  Group caches, runnables, election;
  std::vector<std::shared_ptr<Runnable>> cache_runnables(caches_.begin(), caches_.end());
  startGroup(caches, cache_runnables);

  // Leader-only work stops before the Lease is released, so two leaders never write at once.
  auto shutdown = [&] {
    stopLeaderWork();
    stopGroup(election);  // releases the Lease
    stopGroup(runnables);
    stopGroup(caches);
  };

  auto deadline = clock_.steadyNow() + options_.cache_sync_timeout;
  while (true) {
    bool all = true;
    for (const auto& cache : caches_) all = all && cache->hasSynced();
    if (all) break;
    if (stop.cancelled()) {
      shutdown();
      return Status::ok();
    }
    if (clock_.steadyNow() >= deadline) {
      shutdown();
      return Status(ErrorCode::Timeout, "caches did not sync in time");
    }
    stop.sleepFor(std::chrono::milliseconds(20));
  }
  caches_synced_ = true;
  log::info("caches synced", {{"caches", std::to_string(caches_.size())}});
  startGroup(runnables, runnables_);

  std::unique_ptr<kube::LeaderElector> elector;
  if (options_.leader_election && client_) {
    elector = std::make_unique<kube::LeaderElector>(
        *client_, clock_, *options_.leader_election,
        kube::LeaderCallbacks{[this] { startLeaderWork(); }, [this] { stopLeaderWork(); },
                              [](const std::string& holder) {
                                log::info("leader election: new leader", {{"holder", holder}});
                              }});
    election.cancel = std::make_unique<CancelSource>();
    CancelSource* cancel = election.cancel.get();
    kube::LeaderElector* e = elector.get();
    election.threads.emplace_back([e, cancel] { e->run(*cancel); });
  } else {
    startLeaderWork();
  }

  while (stop.sleepFor(std::chrono::hours(1))) {
  }
  log::info("shutting down");
  shutdown();
  return Status::ok();
}

void blockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::thread watchTerminationSignals(CancelSource& stop, CancelSource& hurry) {
  return std::thread([&stop, &hurry] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    timespec tick{0, 200 * 1000 * 1000};
    while (!hurry.cancelled()) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig != SIGTERM && sig != SIGINT) continue;
      const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
      if (!stop.cancelled()) {
        log::info("signal received, stopping", {{"signal", name}});
        stop.cancel();
      } else {
        log::info("second signal received, stopping now", {{"signal", name}});
        hurry.cancel();
      }
    }
  });
}

}  // namespace portico::runtime
