#include <doctest/doctest.h>

#include "controllers/certificate/replica_check.h"
#include "tests/fakes/fake_transport.h"

using namespace portico;
using controllers::certificate::replicaAddresses;
using controllers::certificate::replicasNotServing;

namespace {

std::shared_ptr<const crds::EndpointSlice> slice(const std::string& ns, const std::string& service,
                                                 const std::string& type, int32_t port,
                                                 std::vector<crds::Endpoint> endpoints,
                                                 const std::string& port_name = "http") {
  auto s = std::make_shared<crds::EndpointSlice>();
  s->metadata.namespace_ = ns;
  s->metadata.name = service + "-" + std::to_string(port);
  s->metadata.labels[crds::kServiceNameLabel] = service;
  s->address_type = type;
  s->ports = {{"https", 443, "TCP"}, {port_name, port, "TCP"}};
  s->endpoints = std::move(endpoints);
  return s;
}

crds::Endpoint endpoint(std::vector<std::string> addresses, bool ready = true) {
  crds::Endpoint e;
  e.addresses = std::move(addresses);
  e.ready = ready;
  return e;
}

crds::PendingChallenge challenge(const std::string& token) {
  return {"app.test", token, token + ".thumbprint", "https://ca/chall/" + token};
}

}  // namespace

TEST_CASE("replicas: the ready endpoints of the operator's Service on its http port") {
  const ObjectKey service{"portico-system", "portico"};
  SUBCASE("ready endpoints only, sorted, once each") {
    auto got = replicaAddresses(
        {slice("portico-system", "portico", "IPv4", 8080,
               {endpoint({"10.0.0.2"}), endpoint({"10.0.0.1"}), endpoint({"10.0.0.3"}, false)}),
         slice("portico-system", "portico", "IPv4", 8080, {endpoint({"10.0.0.1"})})},
        service, "http");
    CHECK(got == std::vector<std::string>{"10.0.0.1:8080", "10.0.0.2:8080"});
  }
  SUBCASE("IPv6 addresses are bracketed") {
    auto got = replicaAddresses(
        {slice("portico-system", "portico", "IPv6", 80, {endpoint({"fd00::1"})})}, service, "http");
    CHECK(got == std::vector<std::string>{"[fd00::1]:80"});
  }
  SUBCASE("other Services, other namespaces, FQDN slices and other port names are ignored") {
    auto got = replicaAddresses(
        {slice("portico-system", "web", "IPv4", 80, {endpoint({"10.0.0.9"})}),
         slice("default", "portico", "IPv4", 80, {endpoint({"10.0.0.8"})}),
         slice("portico-system", "portico", "FQDN", 80, {endpoint({"replica.example"})}),
         slice("portico-system", "portico", "IPv4", 80, {endpoint({"10.0.0.7"})}, "metrics")},
        service, "http");
    CHECK(got.empty());
  }
}

TEST_CASE("replicas: a replica serves when it answers every challenge with its key authorization") {
  testing::FakeTransport transport;
  transport.setFallback([](const HttpRequest& request) -> Expected<HttpResponse> {
    HttpResponse response;
    if (request.url.rfind("http://10.0.0.4:80/", 0) == 0)
      return Status(ErrorCode::Timeout, "no answer");
    const auto token = request.url.substr(request.url.rfind('/') + 1);
    if (request.url.rfind("http://10.0.0.1:80/", 0) == 0) {  // up to date
      response.status = 200;
      response.body = token + ".thumbprint";
    } else if (request.url.rfind("http://10.0.0.2:80/", 0) == 0) {  // knows only token a
      response.status = token == "a" ? 200 : 404;
      response.body = token == "a" ? "a.thumbprint" : "not found";
    } else {  // 10.0.0.3: an old snapshot with another answer
      response.status = 200;
      response.body = token + ".stale";
    }
    return response;
  });
  auto missing =
      replicasNotServing(transport, {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"},
                         {challenge("a"), challenge("b")}, std::chrono::milliseconds(300));
  CHECK(missing == std::vector<std::string>{"10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"});
  bool asked_directly = false;
  for (const auto& request : transport.requests()) {
    CHECK(request.method == "GET");
    CHECK(request.timeout == std::chrono::milliseconds(300));
    if (request.url == "http://10.0.0.1:80/.well-known/acme-challenge/b") asked_directly = true;
  }
  CHECK(asked_directly);
}
