// What Portico publishes in status.loadBalancer.ingress of the Ingresses it serves (pure).
// In order: the config's fixed addresses; else the publish Service's own load-balancer status
// (empty until its load balancer is provisioned); else the listener address when it names one
// specific IP (0.0.0.0 and :: name none, so nothing is published).
#pragma once

#include <vector>

#include "crds/ingress_class_config.h"
#include "crds/service.h"

namespace portico::controllers::ingress {

std::vector<crds::LoadBalancerIngress> desiredLoadBalancer(const crds::IngressClassConfigSpec& spec,
                                                           const crds::Service* publish_service);

// True for a literal IPv4 or IPv6 address (status.loadBalancer.ingress[].ip); false for names.
bool isIpAddress(const std::string& text);

}  // namespace portico::controllers::ingress
