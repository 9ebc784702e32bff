#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "operator/runtime/manager.h"
#include "tests/fakes/eventually.h"
#include "tests/fakes/fake_kube_client.h"

using namespace portico;
using namespace portico::runtime;
using portico::testing::eventually;
using portico::testing::FakeKubeClient;
using namespace std::chrono_literals;

namespace {

class Journal {
public:
  void note(const std::string& entry) {
    std::lock_guard lock(mutex_);
    entries_.push_back(entry);
  }
  std::vector<std::string> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }
  bool has(const std::string& entry) const {
    auto all = entries();
    return std::find(all.begin(), all.end(), entry) != all.end();
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::string> entries_;
};

class FakeCache : public SyncedRunnable {
public:
  FakeCache(Journal& journal, std::string name) : journal_(journal), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  bool hasSynced() const override { return synced; }
  void run(CancelSource& cancel) override {
    journal_.note("start " + name_);
    while (cancel.sleepFor(1h)) {
    }
    journal_.note("stop " + name_);
  }
  std::atomic<bool> synced{false};

private:
  Journal& journal_;
  std::string name_;
};

class Worker : public Runnable {
public:
  Worker(Journal& journal, std::string name) : journal_(journal), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  void run(CancelSource& cancel) override {
    ++runs;
    running = true;
    journal_.note("start " + name_);
    while (cancel.sleepFor(1h)) {
    }
    running = false;
    journal_.note("stop " + name_);
  }
  std::atomic<bool> running{false};
  std::atomic<int> runs{0};

private:
  Journal& journal_;
  std::string name_;
};

}  // namespace

TEST_CASE("manager: controllers start only after every cache has synced; stop in reverse order") {
  Journal journal;
  auto cache_a = std::make_shared<FakeCache>(journal, "cache-a");
  auto cache_b = std::make_shared<FakeCache>(journal, "cache-b");
  auto controller = std::make_shared<Worker>(journal, "controller");
  auto leader_work = std::make_shared<Worker>(journal, "leader-work");
  Manager manager(nullptr, {});
  manager.addCache(cache_a);
  manager.addCache(cache_b);
  manager.add(controller);
  manager.addLeaderOnly(leader_work);
  CancelSource stop;
  std::jthread t([&] { CHECK(manager.run(stop).isOk()); });

  REQUIRE(eventually([&] { return journal.has("start cache-a") && journal.has("start cache-b"); }));
  cache_a->synced = true;
  // One cache is not enough.
  CHECK_FALSE(eventually([&] { return controller->running.load(); }, 50ms));
  cache_b->synced = true;
  REQUIRE(eventually([&] { return controller->running.load() && leader_work->running.load(); }));
  CHECK(manager.cachesSynced());
  CHECK(manager.isLeader());  // no leader election configured: always the leader

  stop.cancel();
  t.join();
  auto entries = journal.entries();
  std::vector<std::string> stops;
  for (const auto& e : entries)
    if (e.rfind("stop ", 0) == 0) stops.push_back(e);
  REQUIRE(stops.size() == 4);
  CHECK(stops[0] == "stop leader-work");
  CHECK(stops[1] == "stop controller");
}

TEST_CASE("manager: leader-only work runs while the Lease is held and stops at once when lost") {
  Journal journal;
  FakeKubeClient client;
  auto leader_work = std::make_shared<Worker>(journal, "leader-work");
  auto everywhere = std::make_shared<Worker>(journal, "everywhere");
  ManagerOptions options;
  kube::LeaderElectionConfig election;
  election.lease = {"default", "manager-test"};
  election.identity = "me";
  election.lease_duration = 1000ms;
  election.renew_deadline = 300ms;
  election.retry_period = 20ms;
  options.leader_election = election;
  Manager manager(&client, options);
  manager.add(everywhere);
  manager.addLeaderOnly(leader_work);
  CancelSource stop;
  std::jthread t([&] { (void)manager.run(stop); });

  REQUIRE(eventually([&] { return leader_work->running.load(); }));
  CHECK(manager.isLeader());

  // The API server goes away: after the renew deadline the leader-only work stops; the rest runs
  // on.
  client.setUnavailable(true);
  REQUIRE(eventually([&] { return !leader_work->running.load(); }));
  CHECK(eventually([&] { return !manager.isLeader(); }));
  CHECK(everywhere->running);

  // It comes back: the Lease is still ours, leadership and the work resume.
  client.setUnavailable(false);
  REQUIRE(eventually([&] { return leader_work->running.load(); }));
  CHECK(leader_work->runs == 2);

  stop.cancel();
  t.join();
  // Shutdown released the Lease for a successor.
  auto lease = client.get(kube::resources::leases(), {"default", "manager-test"});
  REQUIRE(lease);
  CHECK((*lease)["spec"]["holderIdentity"] == "");
}
