// Access to the real test cluster that tests/cluster/with-cluster.sh started for this run.
// Fails loudly (never skips) when it is missing: integration tests must run against it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "operator/kube/client.h"
#include "tests/fakes/eventually.h"

namespace portico::it {

using portico::testing::eventually;

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

kube::Json configMap(const std::string& ns, const std::string& name, const std::string& value);

// A namespace unique to this test run and test, created if missing.
std::string freshNamespace(kube::KubeClient& client, const std::string& prefix);

}  // namespace portico::it
