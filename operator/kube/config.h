// Where the API server is and how to authenticate: from a kubeconfig file (current or named
// context) or from the in-cluster service account. Private key and token text stay in memory
// and are never logged.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "operator/base/http_transport.h"
#include "operator/base/status.h"
#include "operator/base/thread_annotations.h"

namespace portico::kube {

// A bearer token that may come from a file the kubelet rotates (projected service-account token):
// the file is re-read when it changes, at most once per `recheck` period.
class TokenSource {
public:
  static std::shared_ptr<TokenSource> fixed(std::string token);
  static std::shared_ptr<TokenSource> fromFile(
      std::string path, std::chrono::seconds recheck = std::chrono::seconds(60));

  // Empty when there is no token.
  std::string token();

private:
  Mutex mutex_;
  std::string token_ GUARDED_BY(mutex_);
  std::string path_ GUARDED_BY(mutex_);
  std::chrono::seconds recheck_ GUARDED_BY(mutex_){60};
  std::chrono::steady_clock::time_point next_check_ GUARDED_BY(mutex_){};
};

struct ClusterConfig {
  std::string server;  // https://host:port, no trailing slash
  TlsSettings tls;
  std::shared_ptr<TokenSource> token;  // may be null
  std::string context_name;            // for messages
  std::string default_namespace = "default";
};

// Parses kubeconfig YAML text. Relative file paths resolve against `base_dir`.
Expected<ClusterConfig> parseKubeconfig(const std::string& yaml_text, const std::string& base_dir,
                                        const std::string& context_override = "");
Expected<ClusterConfig> loadKubeconfig(const std::string& path,
                                       const std::string& context_override = "");

// In-cluster: KUBERNETES_SERVICE_HOST/PORT and the service-account files under `sa_dir`
// (default /var/run/secrets/kubernetes.io/serviceaccount).
Expected<ClusterConfig> inClusterConfig(
    const std::map<std::string, std::string>& env,
    const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// The usual order: an explicit --kubeconfig, then $KUBECONFIG, then in-cluster, then
// ~/.kube/config.
Expected<ClusterConfig> resolveConfig(const std::string& kubeconfig_flag,
                                      const std::string& context);

Expected<std::string> readFile(const std::string& path);

}  // namespace portico::kube
