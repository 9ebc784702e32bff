// Two `portico debug lease` processes compete for one Lease on a real apiserver.
#include <doctest/doctest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/integration/cluster.h"

extern char** environ;

using namespace portico;
using namespace std::chrono_literals;
using portico::it::eventually;

namespace {

struct Candidate {
  std::string id;
  std::string out_file;
  pid_t pid = -1;

  Candidate(std::string identity, const std::string& lease_name) : id(std::move(identity)) {
    out_file = it::clusterDir() + "/lease-" + lease_name + "-" + id + ".out";
    std::string command = "exec " + it::porticoBinary() + " debug lease --kubeconfig " +
                          it::kubeconfigPath() + " --namespace default --name " + lease_name +
                          " --identity " + id +
                          " --lease-duration 4 --renew-deadline 3 --retry-period 0.5 > " +
                          out_file + " 2>>" + out_file + ".log";
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    REQUIRE(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) == 0);
  }
  ~Candidate() { stop(SIGKILL); }

  void stop(int signal) {
    if (pid <= 0) return;
    kill(pid, signal);
    int status;
    waitpid(pid, &status, 0);
    pid = -1;
  }

  std::string output() const {
    std::ifstream in(out_file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  bool leads() const { return output().find("leading " + id) != std::string::npos; }
};

std::string holderOf(kube::KubeClient& client, const std::string& lease_name) {
  auto lease = client.get(kube::resources::leases(), {"default", lease_name});
  return lease ? (*lease)["spec"].value("holderIdentity", "") : "<none>";
}

}  // namespace

TEST_CASE("lease: exactly one of two processes leads; the other takes over when it dies") {
  auto client = it::adminClient();
  const std::string lease_name = "it-lease-" + std::to_string(getpid());
  Candidate a("cand-a", lease_name), b("cand-b", lease_name);

  REQUIRE(eventually([&] { return a.leads() || b.leads(); }, 30s));
  Candidate& leader = a.leads() ? a : b;
  Candidate& follower = a.leads() ? b : a;
  CHECK(holderOf(*client, lease_name) == leader.id);

  // For several renewal periods, the follower never leads.
  bool two_leaders = eventually([&] { return follower.leads(); }, 2s);
  CHECK_FALSE(two_leaders);
  CHECK(follower.output().find("following " + leader.id) != std::string::npos);

  auto killed_at = std::chrono::steady_clock::now();
  leader.stop(SIGKILL);
  // Takes over once the lease duration (4 s) has passed without renewal, plus a retry period.
  REQUIRE(eventually([&] { return follower.leads(); }, 4s + 2s));
  auto takeover = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed_at);
  MESSAGE("takeover after the leader was killed: " << takeover.count() << " ms");
  CHECK(holderOf(*client, lease_name) == follower.id);

  // A graceful stop releases the Lease at once.
  follower.stop(SIGTERM);
  CHECK(holderOf(*client, lease_name) == "");
  CHECK(follower.output().find("stopped " + follower.id) != std::string::npos);
}

TEST_CASE("lease: a released Lease is taken by the waiting candidate without waiting for expiry") {
  auto client = it::adminClient();
  const std::string lease_name = "it-release-" + std::to_string(getpid());
  Candidate a("first", lease_name);
  REQUIRE(eventually([&] { return a.leads(); }, 30s));
  Candidate b("second", lease_name);
  REQUIRE(eventually([&] { return b.output().find("following first") != std::string::npos; }, 10s));
  auto released_at = std::chrono::steady_clock::now();
  a.stop(SIGTERM);
  REQUIRE(eventually([&] { return b.leads(); }, 4s));
  auto takeover = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - released_at);
  MESSAGE("takeover after a graceful release: " << takeover.count() << " ms");
}
