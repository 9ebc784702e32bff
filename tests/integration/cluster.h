// Access to the real test cluster that tests/cluster/with-cluster.sh started for this run.
// Fails loudly (never skips) when it is missing: integration tests must run against it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "operator/kube/client.h"

namespace portico::it {

// The state directory (PORTICO_CLUSTER_DIR); aborts the test binary if unset.
const std::string& clusterDir();
std::string sourceRoot();     // PORTICO_SOURCE_ROOT
std::string porticoBinary();  // PORTICO_BIN

// A client for the admin user of the named apiserver ("apiserver" or e.g. "apiserver2").
std::unique_ptr<kube::KubeClient> adminClient(const std::string& apiserver = "apiserver");
std::string kubeconfigPath(const std::string& apiserver = "apiserver");

// Runs a shell command; returns its exit code and stdout.
int run(const std::string& command, std::string* output = nullptr);
int kubectl(const std::string& args, std::string* output = nullptr);

void killApiserver(const std::string& name = "apiserver");   // SIGKILL, as a crash
void startApiserver(const std::string& name = "apiserver");  // waits until ready

// A namespace unique to this test run and test, created if missing.
std::string freshNamespace(kube::KubeClient& client, const std::string& prefix);

// Bounded wait for a condition made true by another thread or process.
template <typename F>
bool eventually(F condition, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

}  // namespace portico::it
