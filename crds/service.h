// core/v1 Service and discovery.k8s.io EndpointSlice (v1 and v1beta1 share the fields we read).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crds/meta.h"

namespace portico::crds {

struct ServicePort {
  std::string name;
  int32_t port = 0;
  std::string protocol = "TCP";
  // targetPort: a number, or the name of a container port (then EndpointSlice ports tell).
  int32_t target_port_number = 0;
  std::string target_port_name;
};

struct Service {
  ObjectMeta metadata;
  std::string type = "ClusterIP";
  std::string external_name;  // type ExternalName
  std::vector<ServicePort> ports;
  std::vector<LoadBalancerIngress> status_load_balancer;

  const ServicePort* portByNumber(int32_t number) const;
  const ServicePort* portByName(const std::string& name) const;
};

// The label tying an EndpointSlice to its Service.
inline constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";

struct Endpoint {
  std::vector<std::string> addresses;
  // conditions.ready: nil means ready (the API's documented default).
  bool ready = true;
  bool serving = true;
  bool terminating = false;
};

struct EndpointPort {
  std::string name;
  int32_t port = 0;
  std::string protocol = "TCP";
};

struct EndpointSlice {
  ObjectMeta metadata;
  std::string address_type = "IPv4";  // IPv4, IPv6, FQDN
  std::vector<Endpoint> endpoints;
  std::vector<EndpointPort> ports;

  std::string serviceName() const {
    auto it = metadata.labels.find(kServiceNameLabel);
    return it == metadata.labels.end() ? "" : it->second;
  }
};

void from_json(const Json& j, Service& out);
void to_json(Json& j, const Service& in);
void from_json(const Json& j, EndpointSlice& out);
void to_json(Json& j, const EndpointSlice& in);

}  // namespace portico::crds
