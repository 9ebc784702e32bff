#include "crds/ingress.h"

#include <nlohmann/json.hpp>

namespace portico::crds {

const char* pathTypeName(PathType type) {
  switch (type) {
    case PathType::Exact: return "Exact";
    case PathType::Prefix: return "Prefix";
    case PathType::ImplementationSpecific: return "ImplementationSpecific";
  }
  return "Prefix";
}

namespace {

PathType parsePathType(const std::string& text) {
  if (text == "Exact") return PathType::Exact;
  if (text == "Prefix") return PathType::Prefix;
  if (text == "ImplementationSpecific") return PathType::ImplementationSpecific;
  throw std::invalid_argument("unknown pathType \"" + text + "\"");
}

}  // namespace

void from_json(const Json& j, ServiceBackendPort& out) {
  out.name = j.value("name", "");
  out.number = j.value("number", 0);
}

void to_json(Json& j, const ServiceBackendPort& in) {
  j = Json::object();
  if (!in.name.empty())
    j["name"] = in.name;
  else
    j["number"] = in.number;
}

void from_json(const Json& j, IngressBackend& out) {
  out = IngressBackend{};
  if (auto s = j.find("service"); s != j.end() && s->is_object()) {
    IngressServiceBackend service;
    service.name = s->value("name", "");
    if (auto p = s->find("port"); p != s->end() && p->is_object())
      service.port = p->get<ServiceBackendPort>();
    out.service = service;
  }
  if (auto r = j.find("resource"); r != j.end() && r->is_object())
    out.resource = TypedLocalObjectReference{r->value("apiGroup", ""), r->value("kind", ""),
                                             r->value("name", "")};
}

void to_json(Json& j, const IngressBackend& in) {
  j = Json::object();
  if (in.service) j["service"] = {{"name", in.service->name}, {"port", in.service->port}};
  if (in.resource) {
    j["resource"] = {{"kind", in.resource->kind}, {"name", in.resource->name}};
    if (!in.resource->api_group.empty()) j["resource"]["apiGroup"] = in.resource->api_group;
  }
}

void from_json(const Json& j, Ingress& out) {
  out = Ingress{};
  out.metadata = j.value("metadata", Json::object()).get<ObjectMeta>();
  const Json spec = j.value("spec", Json::object());
  if (auto c = spec.find("ingressClassName"); c != spec.end() && c->is_string())
    out.spec.ingress_class_name = c->get<std::string>();
  if (auto d = spec.find("defaultBackend"); d != spec.end() && d->is_object())
    out.spec.default_backend = d->get<IngressBackend>();
  for (const auto& t : spec.value("tls", Json::array())) {
    IngressTls tls;
    tls.hosts = t.value("hosts", std::vector<std::string>{});
    tls.secret_name = t.value("secretName", "");
    out.spec.tls.push_back(std::move(tls));
  }
  for (const auto& r : spec.value("rules", Json::array())) {
    IngressRule rule;
    rule.host = r.value("host", "");
    if (auto http = r.find("http"); http != r.end() && http->is_object()) {
      for (const auto& p : http->value("paths", Json::array())) {
        HttpIngressPath path;
        path.path = p.value("path", "");
        path.path_type = parsePathType(p.value("pathType", "ImplementationSpecific"));
        path.backend = p.value("backend", Json::object()).get<IngressBackend>();
        rule.paths.push_back(std::move(path));
      }
    }
    out.spec.rules.push_back(std::move(rule));
  }
  out.status_load_balancer = loadBalancerFromStatus(j.value("status", Json::object()));
}

void to_json(Json& j, const Ingress& in) {
  j = Json{{"apiVersion", "networking.k8s.io/v1"}, {"kind", "Ingress"}, {"metadata", in.metadata}};
  Json spec = Json::object();
  if (in.spec.ingress_class_name) spec["ingressClassName"] = *in.spec.ingress_class_name;
  if (in.spec.default_backend) spec["defaultBackend"] = *in.spec.default_backend;
  for (const auto& t : in.spec.tls) {
    Json tls = Json::object();
    if (!t.hosts.empty()) tls["hosts"] = t.hosts;
    if (!t.secret_name.empty()) tls["secretName"] = t.secret_name;
    spec["tls"].push_back(tls);
  }
  for (const auto& r : in.spec.rules) {
    Json rule = Json::object();
    if (!r.host.empty()) rule["host"] = r.host;
    for (const auto& p : r.paths) {
      Json path = {{"pathType", pathTypeName(p.path_type)}, {"backend", p.backend}};
      if (!p.path.empty()) path["path"] = p.path;
      rule["http"]["paths"].push_back(path);
    }
    spec["rules"].push_back(rule);
  }
  j["spec"] = spec;
  if (!in.status_load_balancer.empty())
    j["status"]["loadBalancer"]["ingress"] = loadBalancerToJson(in.status_load_balancer);
}

void from_json(const Json& j, IngressClass& out) {
  out = IngressClass{};
  out.metadata = j.value("metadata", Json::object()).get<ObjectMeta>();
  const Json spec = j.value("spec", Json::object());
  out.controller = spec.value("controller", "");
  if (auto p = spec.find("parameters"); p != spec.end() && p->is_object()) {
    out.parameters =
        IngressClassParameters{p->value("apiGroup", ""), p->value("kind", ""), p->value("name", ""),
                               p->value("scope", "Cluster"), p->value("namespace", "")};
  }
}

void to_json(Json& j, const IngressClass& in) {
  j = Json{
      {"apiVersion", "networking.k8s.io/v1"}, {"kind", "IngressClass"}, {"metadata", in.metadata}};
  j["spec"]["controller"] = in.controller;
  if (in.parameters) {
    Json p = {{"kind", in.parameters->kind}, {"name", in.parameters->name}};
    if (!in.parameters->api_group.empty()) p["apiGroup"] = in.parameters->api_group;
    if (in.parameters->scope == "Namespace") {
      p["scope"] = "Namespace";
      p["namespace"] = in.parameters->namespace_;
    }
    j["spec"]["parameters"] = p;
  }
}

}  // namespace portico::crds
