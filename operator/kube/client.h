// KubeClient: the Kubernetes REST API on JSON objects, addressed by Resource (group/version/
// resource + scope). KubeClientImpl speaks HTTP through HttpTransport; tests use an in-memory
// fake (tests/fakes/fake_kube_client.h) and, for integration, a real kube-apiserver.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operator/base/cancel.h"
#include "operator/base/clock.h"
#include "operator/base/http_transport.h"
#include "operator/base/object_key.h"
#include "operator/base/status.h"
#include "operator/kube/config.h"
#include "operator/kube/resource.h"
#include "operator/kube/watch_stream.h"

namespace portico::kube {

using Json = nlohmann::json;

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;  // page size; 0 = server default (everything)
  std::string continue_token;
  std::string resource_version;  // "" = most recent (quorum read)
};

struct ListPage {
  std::vector<Json> items;
  std::string resource_version;  // of the list: watch from here
  std::string continue_token;    // non-empty when more pages follow
};

struct WatchOptions {
  std::string resource_version;
  bool allow_bookmarks = true;
  int timeout_seconds = 300;  // the server ends the watch after this; re-watch from the last RV
  std::string label_selector;
  std::string field_selector;
};

// Return false to end the watch.
using WatchHandler = std::function<bool(WatchEvent&& event)>;

enum class PatchType { Merge, JsonPatch, StrategicMerge, Apply };  // JsonPatch: RFC 6902

struct PatchOptions {
  std::string field_manager;
  bool force = false;       // server-side apply: take ownership of conflicting fields
  std::string subresource;  // "" or "status"
};

struct DeleteOptions {
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  std::string propagation_policy;  // "", "Orphan", "Background", "Foreground"
};

// One served group/version, as discovery reports it.
struct GroupVersion {
  std::string group;  // "" for core
  std::string version;
  std::string toString() const { return group.empty() ? version : group + "/" + version; }
};

class KubeClient {
public:
  virtual ~KubeClient() = default;

  virtual Expected<Json> get(const Resource& resource, const ObjectKey& key) = 0;
  // One page; `ns` empty lists across namespaces.
  virtual Expected<ListPage> list(const Resource& resource, const std::string& ns,
                                  const ListOptions& options) = 0;
  // Streams events until the server ends the watch (Ok), the handler returns false (Ok),
  // `cancel` fires (Cancelled), or the resourceVersion is too old (Gone: relist).
  virtual Status watch(const Resource& resource, const std::string& ns, const WatchOptions& options,
                       const WatchHandler& handler, CancelSource& cancel) = 0;
  // The object's namespace comes from its metadata.
  virtual Expected<Json> create(const Resource& resource, const Json& object) = 0;
  // Conflict when metadata.resourceVersion is stale.
  virtual Expected<Json> update(const Resource& resource, const Json& object) = 0;
  virtual Expected<Json> updateStatus(const Resource& resource, const Json& object) = 0;
  // `body` is JSON (merge/JSON patch) or YAML/JSON (apply).
  virtual Expected<Json> patch(const Resource& resource, const ObjectKey& key, PatchType type,
                               const std::string& body, const PatchOptions& options) = 0;
  virtual Status remove(const Resource& resource, const ObjectKey& key,
                        const DeleteOptions& options) = 0;
  // Every group/version the server serves.
  virtual Expected<std::vector<GroupVersion>> serverGroupVersions() = 0;

  // Every page of a list, following `continue` tokens.
  Expected<ListPage> listAll(const Resource& resource, const std::string& ns,
                             ListOptions options = {});
  // The first of `versions` (in order of preference) that the server serves for `group`.
  Expected<std::string> preferredVersion(const std::string& group,
                                         const std::vector<std::string>& versions);
};

struct ClientOptions {
  double qps = 50;  // client-side rate limit; <= 0 disables it
  int burst = 100;
  int max_retries = 5;  // for 429, 5xx and connection errors (see isRetryable)
  std::chrono::milliseconds request_timeout{30000};
  std::string user_agent = "portico";
};

std::unique_ptr<KubeClient> makeKubeClient(ClusterConfig config,
                                           std::shared_ptr<HttpTransport> transport,
                                           ClientOptions options = {},
                                           const Clock& clock = SystemClock::instance());

// Builds the transport for the config's TLS settings with `make_transport` (in the program:
// http::makeCpprestTransport) and returns a ready client.
std::unique_ptr<KubeClient> connect(const ClusterConfig& config,
                                    const TransportFactory& make_transport,
                                    ClientOptions options = {});

}  // namespace portico::kube
