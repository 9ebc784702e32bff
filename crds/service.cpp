#include "crds/service.h"

#include <nlohmann/json.hpp>

namespace portico::crds {

const ServicePort* Service::portByNumber(int32_t number) const {
  for (const auto& p : ports)
    if (p.port == number) return &p;
  return nullptr;
}

const ServicePort* Service::portByName(const std::string& name) const {
  for (const auto& p : ports)
    if (p.name == name) return &p;
  return nullptr;
}

void from_json(const Json& j, Service& out) {
  out = Service{};
  out.metadata = j.value("metadata", Json::object()).get<ObjectMeta>();
  const Json spec = j.value("spec", Json::object());
  out.type = spec.value("type", "ClusterIP");
  out.external_name = spec.value("externalName", "");
  for (const auto& p : spec.value("ports", Json::array())) {
    ServicePort port;
    port.name = p.value("name", "");
    port.port = p.value("port", 0);
    port.protocol = p.value("protocol", "TCP");
    if (auto t = p.find("targetPort"); t != p.end()) {
      if (t->is_number_integer())
        port.target_port_number = t->get<int32_t>();
      else if (t->is_string())
        port.target_port_name = t->get<std::string>();
    } else {
      port.target_port_number = port.port;  // the API's default
    }
    out.ports.push_back(std::move(port));
  }
  out.status_load_balancer = loadBalancerFromStatus(j.value("status", Json::object()));
}

void to_json(Json& j, const Service& in) {
  j = Json{{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", in.metadata}};
  j["spec"]["type"] = in.type;
  if (!in.external_name.empty()) j["spec"]["externalName"] = in.external_name;
  for (const auto& p : in.ports) {
    Json port = {{"port", p.port}, {"protocol", p.protocol}};
    if (!p.name.empty()) port["name"] = p.name;
    if (!p.target_port_name.empty())
      port["targetPort"] = p.target_port_name;
    else if (p.target_port_number)
      port["targetPort"] = p.target_port_number;
    j["spec"]["ports"].push_back(port);
  }
  if (!in.status_load_balancer.empty())
    j["status"]["loadBalancer"]["ingress"] = loadBalancerToJson(in.status_load_balancer);
}

void from_json(const Json& j, EndpointSlice& out) {
  out = EndpointSlice{};
  out.metadata = j.value("metadata", Json::object()).get<ObjectMeta>();
  out.address_type = j.value("addressType", "IPv4");
  for (const auto& e : j.value("endpoints", Json::array())) {
    Endpoint endpoint;
    endpoint.addresses = e.value("addresses", std::vector<std::string>{});
    const Json conditions = e.value("conditions", Json::object());
    auto flag = [&](const char* name, bool fallback) {
      auto it = conditions.find(name);
      return it != conditions.end() && it->is_boolean() ? it->get<bool>() : fallback;
    };
    endpoint.ready = flag("ready", true);
    endpoint.terminating = flag("terminating", false);
    endpoint.serving = flag("serving", endpoint.ready);
    out.endpoints.push_back(std::move(endpoint));
  }
  for (const auto& p : j.value("ports", Json::array())) {
    // A null port name is the unnamed port.
    EndpointPort port;
    if (auto n = p.find("name"); n != p.end() && n->is_string()) port.name = n->get<std::string>();
    port.port = p.value("port", 0);
    port.protocol = p.value("protocol", "TCP");
    out.ports.push_back(std::move(port));
  }
}

void to_json(Json& j, const EndpointSlice& in) {
  j = Json{
      {"apiVersion", "discovery.k8s.io/v1"}, {"kind", "EndpointSlice"}, {"metadata", in.metadata}};
  j["addressType"] = in.address_type;
  j["endpoints"] = Json::array();
  for (const auto& e : in.endpoints)
    j["endpoints"].push_back(
        {{"addresses", e.addresses},
         {"conditions",
          {{"ready", e.ready}, {"serving", e.serving}, {"terminating", e.terminating}}}});
  j["ports"] = Json::array();
  for (const auto& p : in.ports) {
    Json port = {{"port", p.port}, {"protocol", p.protocol}};
    if (!p.name.empty()) port["name"] = p.name;
    j["ports"].push_back(port);
  }
}

}  // namespace portico::crds
