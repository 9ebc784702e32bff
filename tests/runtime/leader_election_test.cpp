#include <doctest/doctest.h>

#include "operator/kube/leader_election.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_kube_client.h"

using namespace portico;
using namespace portico::kube;
using portico::testing::FakeClock;
using portico::testing::FakeKubeClient;
using namespace std::chrono_literals;

namespace {

struct Candidate {
  int started = 0;
  int stopped = 0;
  std::unique_ptr<LeaderElector> elector;

  Candidate(KubeClient& client, const Clock& clock, const std::string& id) {
    LeaderElectionConfig config;
    config.lease = {"kube-system", "portico"};
    config.identity = id;
    config.lease_duration = 15s;
    config.renew_deadline = 10s;
    config.retry_period = 2s;
    elector = std::make_unique<LeaderElector>(
        client, clock, config,
        LeaderCallbacks{[this] { ++started; }, [this] { ++stopped; }, nullptr});
  }
};

std::string holder(FakeKubeClient& client) {
  return (*client.get(resources::leases(), {"kube-system", "portico"}))["spec"]["holderIdentity"];
}

}  // namespace

TEST_CASE("leader election: the first candidate creates the Lease and leads; the second follows") {
  FakeClock clock;
  FakeKubeClient client;
  Candidate a(client, clock, "a"), b(client, clock, "b");
  a.elector->step();
  CHECK(a.elector->isLeader());
  CHECK(a.started == 1);
  b.elector->step();
  CHECK_FALSE(b.elector->isLeader());
  CHECK(b.elector->observedHolder() == "a");
  CHECK(holder(client) == "a");
}

TEST_CASE("leader election: a follower takes over only after the lease duration without renewals") {
  FakeClock clock;
  FakeKubeClient client;
  Candidate a(client, clock, "a"), b(client, clock, "b");
  a.elector->step();
  b.elector->step();
  // The leader renews every retry period: the follower keeps following.
  for (int i = 0; i < 20; ++i) {
    clock.advance(2s);
    a.elector->step();
    b.elector->step();
    REQUIRE_FALSE(b.elector->isLeader());
  }
  // The leader dies. Until leaseDuration has passed since b last saw a change, b waits.
  clock.advance(14s);
  b.elector->step();
  CHECK_FALSE(b.elector->isLeader());
  clock.advance(1s);
  b.elector->step();
  CHECK(b.elector->isLeader());
  CHECK(holder(client) == "b");
  auto lease = *client.get(resources::leases(), {"kube-system", "portico"});
  CHECK(lease["spec"]["leaseTransitions"] == 1);
}

TEST_CASE("leader election: a leader that cannot renew within the deadline stops leading") {
  FakeClock clock;
  FakeKubeClient client;
  Candidate a(client, clock, "a");
  a.elector->step();
  REQUIRE(a.elector->isLeader());
  client.setUnavailable(true);
  clock.advance(2s);
  a.elector->step();
  CHECK(a.elector->isLeader());  // one failed renewal is tolerated
  clock.advance(8s);
  a.elector->step();
  CHECK_FALSE(a.elector->isLeader());  // 10 s without renewal: renewDeadline
  CHECK(a.stopped == 1);
  client.setUnavailable(false);
  clock.advance(2s);
  a.elector->step();  // the Lease is still ours: lead again
  CHECK(a.elector->isLeader());
  CHECK(a.started == 2);
}

TEST_CASE("leader election: a leader that sees another holder stops at once") {
  FakeClock clock;
  FakeKubeClient client;
  Candidate a(client, clock, "a");
  a.elector->step();
  auto lease = *client.get(resources::leases(), {"kube-system", "portico"});
  lease["spec"]["holderIdentity"] = "intruder";
  lease["spec"]["renewTime"] = "2030-01-01T00:00:00.000000Z";
  REQUIRE(client.update(resources::leases(), lease));
  clock.advance(2s);
  a.elector->step();
  CHECK_FALSE(a.elector->isLeader());
  CHECK(a.stopped == 1);
}

TEST_CASE("leader election: release hands the Lease over without waiting for expiry") {
  FakeClock clock;
  FakeKubeClient client;
  Candidate a(client, clock, "a"), b(client, clock, "b");
  a.elector->step();
  b.elector->step();
  a.elector->release();
  CHECK(holder(client) == "");
  clock.advance(2s);
  b.elector->step();
  CHECK(b.elector->isLeader());
}

TEST_CASE("leader election: two candidates racing on one version: exactly one wins") {
  FakeClock clock;
  FakeKubeClient client;
  Candidate a(client, clock, "a"), b(client, clock, "b"), c(client, clock, "c");
  a.elector->step();
  a.elector->release();
  clock.advance(2s);
  b.elector->step();
  c.elector->step();
  CHECK(b.elector->isLeader() != c.elector->isLeader());
}
