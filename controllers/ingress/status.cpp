#include "controllers/ingress/status.h"

#include <arpa/inet.h>

namespace portico::controllers::ingress {

bool isIpAddress(const std::string& text) {
  unsigned char buffer[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

std::vector<crds::LoadBalancerIngress> desiredLoadBalancer(const crds::IngressClassConfigSpec& spec,
                                                           const crds::Service* publish_service) {
  std::vector<crds::LoadBalancerIngress> out;
  if (!spec.status_publishing.addresses.empty()) {
    for (const auto& address : spec.status_publishing.addresses) {
      if (isIpAddress(address))
        out.push_back({address, ""});
      else
        out.push_back({"", address});
    }
    return out;
  }
  if (spec.status_publishing.service)
    return publish_service ? publish_service->status_load_balancer : out;
  const std::string& address = spec.listeners.address;
  if (isIpAddress(address) && address != "0.0.0.0" && address != "::") out.push_back({address, ""});
  return out;
}

}  // namespace portico::controllers::ingress
