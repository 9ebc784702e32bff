#include "operator/kube/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "operator/base/base64.h"
#include "operator/base/thread_annotations.h"

namespace portico::kube {

std::shared_ptr<TokenSource> TokenSource::fixed(std::string token) {
  auto source = std::make_shared<TokenSource>();
  MutexLock lock(source->mutex_);
  source->token_ = std::move(token);
  return source;
}

std::shared_ptr<TokenSource> TokenSource::fromFile(std::string path, std::chrono::seconds recheck) {
  auto source = std::make_shared<TokenSource>();
  MutexLock lock(source->mutex_);
  source->path_ = std::move(path);
  source->recheck_ = recheck;
  return source;
}

std::string TokenSource::token() {
  MutexLock lock(mutex_);
  if (!path_.empty()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= next_check_) {
      if (auto text = readFile(path_)) {
        std::string t = *text;
        while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' '))
          t.pop_back();
        token_ = t;  // a failed read keeps the last good token
      }
      next_check_ = now + recheck_;
    }
  }
  return token_;
}

Expected<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::NotFound, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

std::string resolvePath(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

// kubeconfig fields come in pairs: "<name>-data" (base64 PEM) or "<name>" (a file path).
Expected<std::string> dataOrFile(const YAML::Node& node, const std::string& field,
                                 const std::string& base_dir) {
  if (auto data = node[field + "-data"]; data && data.IsScalar()) {
    auto decoded = base64Decode(data.as<std::string>());
    if (!decoded) return Status(ErrorCode::InvalidArgument, field + "-data is not valid base64");
    return *decoded;
  }
  if (auto file = node[field]; file && file.IsScalar()) {
    auto text = readFile(resolvePath(file.as<std::string>(), base_dir));
    if (!text) return Status(ErrorCode::InvalidArgument, field + ": " + text.error().message());
    return *text;
  }
  return std::string();
}

// The `inner` mapping of the entry called `name` in a kubeconfig list (clusters, users, contexts).
std::optional<YAML::Node> findNamed(const YAML::Node& list, const std::string& name,
                                    const char* inner) {
  if (!list || !list.IsSequence()) return std::nullopt;
  for (const auto& entry : list) {
    if (entry["name"] && entry["name"].as<std::string>() == name) {
      YAML::Node node = entry[inner];
      return node.IsDefined() && node.IsMap() ? node : YAML::Node(YAML::NodeType::Map);
    }
  }
  return std::nullopt;
}

std::string scalar(const YAML::Node& node, const char* key) {
  auto v = node[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

}  // namespace

Expected<ClusterConfig> parseKubeconfig(const std::string& yaml_text, const std::string& base_dir,
                                        const std::string& context_override) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status(ErrorCode::InvalidArgument, std::string("kubeconfig is not YAML: ") + e.what());
  }
  if (!root.IsMap()) return Status(ErrorCode::InvalidArgument, "kubeconfig is not a mapping");

  ClusterConfig config;
  try {
    config.context_name =
        context_override.empty() ? scalar(root, "current-context") : context_override;
    if (config.context_name.empty())
      return Status(ErrorCode::InvalidArgument, "kubeconfig has no current-context");
    auto found_context = findNamed(root["contexts"], config.context_name, "context");
    if (!found_context)
      return Status(ErrorCode::InvalidArgument,
                    "kubeconfig has no context named \"" + config.context_name + "\"");
    const YAML::Node& context = *found_context;
    std::string cluster_name = scalar(context, "cluster");
    std::string user_name = scalar(context, "user");
    if (auto ns = scalar(context, "namespace"); !ns.empty()) config.default_namespace = ns;

    auto found_cluster = findNamed(root["clusters"], cluster_name, "cluster");
    if (!found_cluster)
      return Status(ErrorCode::InvalidArgument,
                    "kubeconfig has no cluster named \"" + cluster_name + "\"");
    const YAML::Node& cluster = *found_cluster;
    config.server = scalar(cluster, "server");
    while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
    if (config.server.empty())
      return Status(ErrorCode::InvalidArgument, "cluster \"" + cluster_name + "\" has no server");
    config.tls.insecure_skip_verify = scalar(cluster, "insecure-skip-tls-verify") == "true";
    auto ca = dataOrFile(cluster, "certificate-authority", base_dir);
    if (!ca) return ca.error();
    config.tls.ca_pem = *ca;

    // A context without a user is anonymous.
    if (!user_name.empty()) {
      auto found_user = findNamed(root["users"], user_name, "user");
      if (!found_user)
        return Status(ErrorCode::InvalidArgument,
                      "kubeconfig has no user named \"" + user_name + "\"");
      const YAML::Node& user = *found_user;
      auto cert = dataOrFile(user, "client-certificate", base_dir);
      if (!cert) return cert.error();
      auto key = dataOrFile(user, "client-key", base_dir);
      if (!key) return key.error();
      config.tls.client_cert_pem = *cert;
      config.tls.client_key_pem = *key;
      if (auto token = scalar(user, "token"); !token.empty()) {
        config.token = TokenSource::fixed(token);
      } else if (auto token_file = scalar(user, "tokenFile"); !token_file.empty()) {
        config.token = TokenSource::fromFile(resolvePath(token_file, base_dir));
      }
    }
  } catch (const YAML::Exception& e) {
    return Status(ErrorCode::InvalidArgument, std::string("kubeconfig: ") + e.what());
  }
  return config;
}

Expected<ClusterConfig> loadKubeconfig(const std::string& path,
                                       const std::string& context_override) {
  auto text = readFile(path);
  if (!text) return text.error();
  auto slash = path.rfind('/');
  std::string base_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  auto config = parseKubeconfig(*text, base_dir, context_override);
  if (!config) return Status(config.error().code(), path + ": " + config.error().message());
  return config;
}

Expected<ClusterConfig> inClusterConfig(const std::map<std::string, std::string>& env,
                                        const std::string& sa_dir) {
  auto host = env.find("KUBERNETES_SERVICE_HOST");
  auto port = env.find("KUBERNETES_SERVICE_PORT");
  if (host == env.end() || port == env.end() || host->second.empty() || port->second.empty())
    return Status(ErrorCode::NotFound,
                  "not in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are unset");
  ClusterConfig config;
  config.context_name = "in-cluster";
  // An IPv6 service host needs brackets in a URL.
  std::string h =
      host->second.find(':') != std::string::npos ? "[" + host->second + "]" : host->second;
  config.server = "https://" + h + ":" + port->second;
  auto ca = readFile(sa_dir + "/ca.crt");
  if (!ca) return Status(ErrorCode::NotFound, "in-cluster: " + ca.error().message());
  config.tls.ca_pem = *ca;
  auto token_path = sa_dir + "/token";
  if (!readFile(token_path))
    return Status(ErrorCode::NotFound, "in-cluster: cannot read " + token_path);
  config.token = TokenSource::fromFile(token_path);
  if (auto ns = readFile(sa_dir + "/namespace"); ns && !ns->empty()) {
    std::string n = *ns;
    while (!n.empty() && (n.back() == '\n' || n.back() == ' ')) n.pop_back();
    config.default_namespace = n;
  }
  return config;
}

Expected<ClusterConfig> resolveConfig(const std::string& kubeconfig_flag,
                                      const std::string& context) {
  if (!kubeconfig_flag.empty()) return loadKubeconfig(kubeconfig_flag, context);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string first = env;
    first = first.substr(0, first.find(':'));  // the first file of a list
    return loadKubeconfig(first, context);
  }
  std::map<std::string, std::string> env;
  for (const char* name : {"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"})
    if (const char* v = std::getenv(name)) env[name] = v;
  if (!env.empty()) return inClusterConfig(env);
  if (const char* home = std::getenv("HOME")) {
    std::string path = std::string(home) + "/.kube/config";
    if (readFile(path)) return loadKubeconfig(path, context);
  }
  return Status(
      ErrorCode::NotFound,
      "no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, or run in a cluster");
}

}  // namespace portico::kube
