#include <doctest/doctest.h>

#include "controllers/ingress/status.h"

using namespace portico;
using namespace portico::controllers::ingress;

TEST_CASE(
    "status.loadBalancer: fixed addresses, else the publish Service, else a specific listener IP") {
  crds::IngressClassConfigSpec spec;
  crds::Service service;
  service.status_load_balancer = {{"203.0.113.7", ""}};
  SUBCASE("wildcard listener address publishes nothing") {
    spec.listeners.address = "0.0.0.0";
    CHECK(desiredLoadBalancer(spec, nullptr).empty());
    spec.listeners.address = "::";
    CHECK(desiredLoadBalancer(spec, nullptr).empty());
  }
  SUBCASE("a specific listener IP") {
    spec.listeners.address = "127.0.0.1";
    CHECK(desiredLoadBalancer(spec, nullptr) ==
          std::vector<crds::LoadBalancerIngress>{{"127.0.0.1", ""}});
  }
  SUBCASE("fixed addresses: IPs as ip, names as hostname") {
    spec.status_publishing.addresses = {"198.51.100.1", "lb.example.com", "2001:db8::1"};
    CHECK(desiredLoadBalancer(spec, &service) ==
          std::vector<crds::LoadBalancerIngress>{
              {"198.51.100.1", ""}, {"", "lb.example.com"}, {"2001:db8::1", ""}});
  }
  SUBCASE("the publish Service's addresses; none until it has them") {
    spec.status_publishing.service = ObjectKey{"portico-system", "portico"};
    CHECK(desiredLoadBalancer(spec, &service) == service.status_load_balancer);
    CHECK(desiredLoadBalancer(spec, nullptr).empty());
  }
}
