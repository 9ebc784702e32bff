#include <doctest/doctest.h>

#include "operator/kube/client.h"
#include "operator/kube/rate_limiter.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_transport.h"

using namespace portico;
using namespace portico::kube;
using portico::testing::FakeClock;
using portico::testing::FakeTransport;
using portico::testing::jsonResponse;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::unique_ptr<KubeClient> client;

  explicit Fixture(int max_retries = 3) {
    ClusterConfig config;
    config.server = "https://api.test:6443";
    config.token = TokenSource::fixed("secret-token");
    ClientOptions options;
    options.qps = 0;  // no client-side limit in unit tests
    options.max_retries = max_retries;
    client = makeKubeClient(config, transport, options);
  }

  std::string header(const HttpRequest& r, const std::string& name) {
    for (const auto& h : r.headers)
      if (h.name == name) return h.value;
    return "";
  }
};

const char* kStatus429 =
    R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"TooManyRequests","code":429})";

}  // namespace

TEST_CASE("client: get addresses core and group resources, sends the bearer token") {
  Fixture f;
  f.transport->enqueue(jsonResponse(200, R"({"kind":"ConfigMap","metadata":{"name":"a"}})"));
  f.transport->enqueue(jsonResponse(200, R"({"kind":"IngressClass","metadata":{"name":"p"}})"));
  auto cm = f.client->get(resources::configMaps(), {"ns1", "a"});
  REQUIRE(cm);
  CHECK((*cm)["kind"] == "ConfigMap");
  auto ic = f.client->get(resources::ingressClasses(), {"ignored", "p"});
  REQUIRE(ic);
  auto requests = f.transport->requests();
  CHECK(requests[0].url == "https://api.test:6443/api/v1/namespaces/ns1/configmaps/a");
  CHECK(requests[1].url == "https://api.test:6443/apis/networking.k8s.io/v1/ingressclasses/p");
  CHECK(f.header(requests[0], "Authorization") == "Bearer secret-token");
  CHECK(f.header(requests[0], "Accept") == "application/json");
}

TEST_CASE("client: listAll follows continue tokens and fills in kind/apiVersion") {
  Fixture f;
  f.transport->enqueue(jsonResponse(
      200,
      R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"10","continue":"tok 1"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})"));
  f.transport->enqueue(jsonResponse(
      200,
      R"({"kind":"ConfigMapList","metadata":{"resourceVersion":"10"},"items":[{"metadata":{"name":"c"}}]})"));
  ListOptions options;
  options.limit = 2;
  options.label_selector = "app=web,tier in (a,b)";
  auto all = f.client->listAll(resources::configMaps(), "", options);
  REQUIRE(all);
  REQUIRE(all->items.size() == 3);
  CHECK(all->resource_version == "10");
  CHECK(all->items[2]["kind"] == "ConfigMap");
  CHECK(all->items[2]["apiVersion"] == "v1");
  auto requests = f.transport->requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].url ==
        "https://api.test:6443/api/v1/"
        "configmaps?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29&limit=2");
  CHECK(requests[1].url.find("continue=tok%201") != std::string::npos);
}

TEST_CASE("client: 429 is retried after Retry-After; 409 is a typed Conflict, not retried") {
  Fixture f;
  f.transport->enqueue(jsonResponse(429, kStatus429, {{"Retry-After", "0"}}));
  f.transport->enqueue(jsonResponse(200, R"({"metadata":{"name":"a","resourceVersion":"2"}})"));
  auto updated = f.client->update(
      resources::configMaps(),
      {{"metadata", {{"name", "a"}, {"namespace", "n"}, {"resourceVersion", "1"}}}});
  REQUIRE(updated);
  CHECK(f.transport->requests().size() == 2);
  CHECK(f.transport->requests()[0].method == "PUT");

  f.transport->enqueue(jsonResponse(
      409,
      R"({"kind":"Status","reason":"Conflict","message":"the object has been modified","code":409})"));
  auto stale = f.client->update(
      resources::configMaps(),
      {{"metadata", {{"name", "a"}, {"namespace", "n"}, {"resourceVersion", "1"}}}});
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code() == ErrorCode::Conflict);
  CHECK(stale.error().message() == "the object has been modified");
  CHECK(f.transport->requests().size() == 3);
}

TEST_CASE("client: connection errors are retried, then reported") {
  Fixture f(/*max_retries=*/1);
  f.transport->enqueue(Status(ErrorCode::Unavailable, "connection refused"));
  f.transport->enqueue(jsonResponse(200, R"({"metadata":{"name":"a"}})"));
  CHECK(f.client->get(resources::configMaps(), {"n", "a"}));
  f.transport->enqueue(Status(ErrorCode::Unavailable, "connection refused"));
  f.transport->enqueue(Status(ErrorCode::Unavailable, "connection refused"));
  auto failed = f.client->get(resources::configMaps(), {"n", "a"});
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code() == ErrorCode::Unavailable);
  CHECK(f.transport->requests().size() == 4);
}

TEST_CASE("client: patch types, server-side apply options, status subresource") {
  struct Row {
    PatchType type;
    const char* content_type;
  };
  const Row rows[] = {{PatchType::Merge, "application/merge-patch+json"},
                      {PatchType::JsonPatch, "application/json-patch+json"},
                      {PatchType::StrategicMerge, "application/strategic-merge-patch+json"},
                      {PatchType::Apply, "application/apply-patch+yaml"}};
  for (const auto& row : rows) {
    SUBCASE(row.content_type) {
      Fixture f;
      f.transport->enqueue(jsonResponse(200, "{}"));
      PatchOptions options;
      options.field_manager = "portico";
      options.force = row.type == PatchType::Apply;
      options.subresource = "status";
      REQUIRE(f.client->patch(resources::ingresses(), {"web", "site"}, row.type, "{}", options));
      auto r = f.transport->requests().at(0);
      CHECK(r.method == "PATCH");
      CHECK(f.header(r, "Content-Type") == row.content_type);
      std::string expected =
          "https://api.test:6443/apis/networking.k8s.io/v1/namespaces/web/ingresses/site/"
          "status?fieldManager=portico";
      if (options.force) expected += "&force=true";
      CHECK(r.url == expected);
    }
  }
}

TEST_CASE("client: delete sends preconditions and propagation policy") {
  Fixture f;
  f.transport->enqueue(jsonResponse(200, R"({"kind":"Status","status":"Success"})"));
  DeleteOptions options;
  options.precondition_uid = "u-1";
  options.propagation_policy = "Foreground";
  REQUIRE(f.client->remove(resources::secrets(), {"n", "s"}, options));
  auto body = Json::parse(f.transport->requests().at(0).body);
  CHECK(body["preconditions"]["uid"] == "u-1");
  CHECK(body["propagationPolicy"] == "Foreground");
  CHECK(f.transport->requests().at(0).method == "DELETE");
}

TEST_CASE("client: watch streams events in order and turns a 410 ERROR event into Gone") {
  Fixture f;
  f.transport->stream_chunk_size = 5;  // events arrive split across many chunks
  f.transport->enqueue(jsonResponse(
      200,
      R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"11"}}})"
      "\n"
      R"({"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"12"}}})"
      "\n"
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}})"
      "\n"));
  std::vector<std::string> seen;
  CancelSource cancel;
  WatchOptions options;
  options.resource_version = "10";
  options.timeout_seconds = 30;
  Status status = f.client->watch(
      resources::configMaps(), "n", options,
      [&](WatchEvent&& e) {
        seen.push_back(std::string(watchEventTypeName(e.type)) + ":" +
                       e.object["metadata"]["resourceVersion"].get<std::string>());
        return true;
      },
      cancel);
  CHECK(status.code() == ErrorCode::Gone);
  CHECK(seen == std::vector<std::string>{"ADDED:11", "MODIFIED:12"});
  auto r = f.transport->requests().at(0);
  CHECK(r.url ==
        "https://api.test:6443/api/v1/namespaces/n/"
        "configmaps?watch=1&resourceVersion=10&allowWatchBookmarks=true&timeoutSeconds=30");
  CHECK(r.timeout == 90s);  // idle timer: server timeout + slack

  f.transport->enqueue(jsonResponse(410, R"({"kind":"Status","code":410,"reason":"Expired"})"));
  CHECK(f.client
            ->watch(
                resources::configMaps(), "n", options, [](WatchEvent&&) { return true; }, cancel)
            .code() == ErrorCode::Gone);
}

TEST_CASE("client: discovery and the preferred EndpointSlice version") {
  Fixture f;
  f.transport->setFallback([](const HttpRequest& r) -> Expected<HttpResponse> {
    if (r.url.ends_with("/api")) return jsonResponse(200, R"({"versions":["v1"]})");
    return jsonResponse(
        200,
        R"({"groups":[{"name":"discovery.k8s.io","versions":[{"groupVersion":"discovery.k8s.io/v1beta1","version":"v1beta1"}]}]})");
  });
  auto version = f.client->preferredVersion("discovery.k8s.io", {"v1", "v1beta1"});
  REQUIRE(version);
  CHECK(*version == "v1beta1");
  CHECK_FALSE(f.client->preferredVersion("discovery.k8s.io", {"v1"}));
}

TEST_CASE("rate limiter: a burst passes, then requests are spaced at 1/qps") {
  FakeClock clock;
  TokenBucket bucket(10, 3, clock);
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 100ms);
  CHECK(bucket.reserve() == 200ms);
  clock.advance(1000ms);  // refills, but never beyond the burst
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() > 0ns);
}
