#include "operator/kube/client.h"

#include <thread>

#include "operator/base/backoff.h"
#include "operator/base/log.h"
#include "operator/base/metrics.h"
#include "operator/kube/api_error.h"
#include "operator/kube/rate_limiter.h"

namespace portico::kube {

Expected<ListPage> KubeClient::listAll(const Resource& resource, const std::string& ns,
                                       ListOptions options) {
  ListPage all;
  for (int page = 0; page < 100000; ++page) {
    auto result = list(resource, ns, options);
    if (!result) return result.error();
    for (auto& item : result->items) all.items.push_back(std::move(item));
    // Every page of one list is a snapshot at the first page's resourceVersion.
    if (page == 0) all.resource_version = result->resource_version;
    if (result->continue_token.empty()) return all;
    options.continue_token = result->continue_token;
  }
  return Status(ErrorCode::Internal, "list of " + resource.toString() + " did not end");
}

Expected<std::string> KubeClient::preferredVersion(const std::string& group,
                                                   const std::vector<std::string>& versions) {
  auto served = serverGroupVersions();
  if (!served) return served.error();
  for (const auto& wanted : versions)
    for (const auto& gv : *served)
      if (gv.group == group && gv.version == wanted) return wanted;
  return Status(ErrorCode::NotFound, "the server serves none of the wanted versions of " +
                                         (group.empty() ? std::string("core") : group));
}

namespace {

std::string urlEncode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

class Query {
public:
  Query& add(const std::string& name, const std::string& value) {
    if (value.empty()) return *this;
    text_ += text_.empty() ? '?' : '&';
    text_ += name + "=" + urlEncode(value);
    return *this;
  }
  const std::string& str() const { return text_; }

private:
  std::string text_;
};

bool isSuccess(int status) {
  return status >= 200 && status < 300;
}

// Worth another try: the server asked us to slow down, failed transiently, or was unreachable.
bool isRetryable(const Status& status) {
  switch (status.code()) {
    case ErrorCode::TooManyRequests:
    case ErrorCode::Unavailable:
    case ErrorCode::Timeout: return true;
    default: return false;
  }
}

double secondsSince(std::chrono::steady_clock::time_point started) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

class KubeClientImpl final : public KubeClient {
public:
  KubeClientImpl(ClusterConfig config, std::shared_ptr<HttpTransport> transport,
                 ClientOptions options, const Clock& clock)
      : config_(std::move(config)),
        transport_(std::move(transport)),
        options_(std::move(options)),
        limiter_(options_.qps, options_.burst, clock) {}

  Expected<Json> get(const Resource& resource, const ObjectKey& key) override {
    return call("get", resource.resource, "GET", resource.objectPath(key), "", "");
  }

  Expected<ListPage> list(const Resource& resource, const std::string& ns,
                          const ListOptions& options) override {
    Query q;
    q.add("labelSelector", options.label_selector)
        .add("fieldSelector", options.field_selector)
        .add("limit", options.limit > 0 ? std::to_string(options.limit) : "")
        .add("continue", options.continue_token)
        .add("resourceVersion", options.resource_version);
    auto doc =
        call("list", resource.resource, "GET", resource.collectionPath(ns) + q.str(), "", "");
    if (!doc) return doc.error();
    ListPage page;
    const Json& meta = (*doc)["metadata"];
    page.resource_version = meta.value("resourceVersion", "");
    page.continue_token = meta.value("continue", "");
    if (auto items = doc->find("items"); items != doc->end() && items->is_array()) {
      page.items.reserve(items->size());
      // List items omit kind/apiVersion; fill them in so items look like what get returns.
      std::string kind = doc->value("kind", "");
      if (kind.size() > 4 && kind.compare(kind.size() - 4, 4, "List") == 0)
        kind.resize(kind.size() - 4);
      for (auto& item : *items) {
        if (!item.contains("kind") && !kind.empty()) item["kind"] = kind;
        if (!item.contains("apiVersion")) item["apiVersion"] = resource.apiVersion();
        page.items.push_back(std::move(item));
      }
    }
    return page;
  }

  Status watch(const Resource& resource, const std::string& ns, const WatchOptions& options,
               const WatchHandler& handler, CancelSource& cancel) override {
    Query q;
    q.add("watch", "1")
        .add("resourceVersion", options.resource_version)
        .add("allowWatchBookmarks", options.allow_bookmarks ? "true" : "")
        .add("timeoutSeconds",
             options.timeout_seconds > 0 ? std::to_string(options.timeout_seconds) : "")
        .add("labelSelector", options.label_selector)
        .add("fieldSelector", options.field_selector);
    HttpRequest request = makeRequest("GET", resource.collectionPath(ns) + q.str(), "", "");
    // The transport's timeout is an idle timer: allow the server's own timeout plus slack.
    request.timeout = std::chrono::seconds(std::max(options.timeout_seconds, 0) + 60);
    throttle();

    WatchDecoder decoder;
    std::vector<WatchEvent> events;
    Status result = Status::ok();
    auto sink = [&](std::string_view data) {
      events.clear();
      if (Status st = decoder.feed(data, events); !st) {
        result = st;
        return false;
      }
      for (auto& event : events) {
        if (event.type == WatchEventType::Error) {
          result = statusFromWatchError(event.object);
          return false;
        }
        if (!handler(std::move(event))) return false;
      }
      return true;
    };
    const auto started = std::chrono::steady_clock::now();
    auto response = transport_->stream(request, sink, cancel);
    metrics::recordKubeRequest("watch", resource.resource, response ? response->status : 0,
                               secondsSince(started));
    if (!response) return response.error();
    if (!isSuccess(response->status)) return statusFromApi(response->status, response->body);
    return result;
  }

  Expected<Json> create(const Resource& resource, const Json& object) override {
    std::string ns = namespaceOf(object);
    return call("create", resource.resource, "POST",
                resource.collectionPath(resource.namespaced ? ns : ""), object.dump(),
                "application/json");
  }

  Expected<Json> update(const Resource& resource, const Json& object) override {
    return call("update", resource.resource, "PUT", resource.objectPath(keyOf(object)),
                object.dump(), "application/json");
  }

  Expected<Json> updateStatus(const Resource& resource, const Json& object) override {
    return call("update", resource.resource + "/status", "PUT",
                resource.objectPath(keyOf(object)) + "/status", object.dump(), "application/json");
  }

  Expected<Json> patch(const Resource& resource, const ObjectKey& key, PatchType type,
                       const std::string& body, const PatchOptions& options) override {
    const char* content_type = "application/merge-patch+json";
    switch (type) {
      case PatchType::Merge: content_type = "application/merge-patch+json"; break;
      case PatchType::JsonPatch: content_type = "application/json-patch+json"; break;
      case PatchType::StrategicMerge:
        content_type = "application/strategic-merge-patch+json";
        break;
      case PatchType::Apply: content_type = "application/apply-patch+yaml"; break;
    }
    Query q;
    q.add("fieldManager", options.field_manager).add("force", options.force ? "true" : "");
    std::string path = resource.objectPath(key);
    if (!options.subresource.empty()) path += "/" + options.subresource;
    return call("patch",
                options.subresource.empty() ? resource.resource
                                            : resource.resource + "/" + options.subresource,
                "PATCH", path + q.str(), body, content_type);
  }

  Status remove(const Resource& resource, const ObjectKey& key,
                const DeleteOptions& options) override {
    Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
    if (options.precondition_uid) body["preconditions"]["uid"] = *options.precondition_uid;
    if (options.precondition_resource_version)
      body["preconditions"]["resourceVersion"] = *options.precondition_resource_version;
    if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
    auto result = call("delete", resource.resource, "DELETE", resource.objectPath(key), body.dump(),
                       "application/json");
    return result.status();
  }

  Expected<std::vector<GroupVersion>> serverGroupVersions() override {
    std::vector<GroupVersion> out;
    auto core = call("get", "discovery", "GET", "/api", "", "");
    if (!core) return core.error();
    for (const auto& v : core->value("versions", Json::array()))
      out.push_back({"", v.get<std::string>()});
    auto groups = call("get", "discovery", "GET", "/apis", "", "");
    if (!groups) return groups.error();
    for (const auto& g : groups->value("groups", Json::array())) {
      for (const auto& v : g.value("versions", Json::array()))
        out.push_back({g.value("name", ""), v.value("version", "")});
    }
    return out;
  }

private:
  static std::string namespaceOf(const Json& object) {
    auto meta = object.find("metadata");
    if (meta == object.end() || !meta->is_object()) return "";
    return meta->value("namespace", "");
  }

  static ObjectKey keyOf(const Json& object) {
    ObjectKey key;
    if (auto meta = object.find("metadata"); meta != object.end() && meta->is_object()) {
      key.namespace_ = meta->value("namespace", "");
      key.name = meta->value("name", "");
    }
    return key;
  }

  HttpRequest makeRequest(const std::string& method, const std::string& path,
                          const std::string& body, const std::string& content_type) const {
    HttpRequest request;
    request.method = method;
    request.url = config_.server + path;
    request.body = body;
    request.timeout = options_.request_timeout;
    request.headers.push_back({"Accept", "application/json"});
    request.headers.push_back({"User-Agent", options_.user_agent});
    if (!content_type.empty()) request.headers.push_back({"Content-Type", content_type});
    if (config_.token) {
      if (auto token = config_.token->token(); !token.empty())
        request.headers.push_back({"Authorization", "Bearer " + token});
    }
    return request;
  }

  void throttle() {
    auto wait = limiter_.reserve();
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
  }

  // One API call with rate limiting and retries; decodes the JSON reply or the error Status.
  Expected<Json> call(std::string_view verb, const std::string& resource, const std::string& method,
                      const std::string& path, const std::string& body,
                      const std::string& content_type) {
    ExponentialBackoff backoff{std::chrono::milliseconds(200), std::chrono::milliseconds(5000),
                               2.0};
    Status last;
    for (int attempt = 0; attempt <= options_.max_retries; ++attempt) {
      throttle();
      const auto started = std::chrono::steady_clock::now();
      auto response = transport_->send(makeRequest(method, path, body, content_type));
      metrics::recordKubeRequest(verb, resource, response ? response->status : 0,
                                 secondsSince(started));
      if (response && isSuccess(response->status)) {
        if (response->body.empty()) return Json::object();
        auto doc = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
        if (doc.is_discarded())
          return Status(ErrorCode::DecodeError, method + " " + path + ": reply is not JSON");
        return doc;
      }
      last = response ? statusFromApi(response->status, response->body) : response.error();
      if (!isRetryable(last) || attempt == options_.max_retries) break;
      auto delay = backoff.delay(attempt, randomJitter());
      if (response) {
        // Retry-After (RFC 9110 §10.2.3) in seconds, as the API server sends it on 429.
        auto retry_after = response->header("Retry-After");
        if (!retry_after.empty() && isdigit(static_cast<unsigned char>(retry_after[0])))
          delay = std::chrono::seconds(std::min(std::stoi(retry_after), 60));
      }
      log::debug("retrying API request", {{"method", method},
                                          {"path", path},
                                          {"error", last.toString()},
                                          {"delay_ms", std::to_string(delay.count())}});
      std::this_thread::sleep_for(delay);
    }
    return last;
  }

  ClusterConfig config_;
  std::shared_ptr<HttpTransport> transport_;
  ClientOptions options_;
  TokenBucket limiter_;
};

}  // namespace

std::unique_ptr<KubeClient> makeKubeClient(ClusterConfig config,
                                           std::shared_ptr<HttpTransport> transport,
                                           ClientOptions options, const Clock& clock) {
  return std::make_unique<KubeClientImpl>(std::move(config), std::move(transport),
                                          std::move(options), clock);
}

std::unique_ptr<KubeClient> connect(const ClusterConfig& config,
                                    const TransportFactory& make_transport, ClientOptions options) {
  std::shared_ptr<HttpTransport> transport = make_transport(config.tls);
  return makeKubeClient(config, std::move(transport), std::move(options));
}

}  // namespace portico::kube
