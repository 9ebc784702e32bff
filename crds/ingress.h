// networking.k8s.io/v1 Ingress and IngressClass: the subset Portico reads and writes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crds/meta.h"

namespace portico::crds {

// The controller name in IngressClass.spec.controller that Portico serves.
inline constexpr const char* kPorticoController = "portico.io/ingress-controller";

struct ServiceBackendPort {
  std::string name;  // either name or number
  int32_t number = 0;
  bool operator==(const ServiceBackendPort&) const = default;
};

struct IngressServiceBackend {
  std::string name;
  ServiceBackendPort port;
  bool operator==(const IngressServiceBackend&) const = default;
};

struct TypedLocalObjectReference {
  std::string api_group;
  std::string kind;
  std::string name;
  bool operator==(const TypedLocalObjectReference&) const = default;
};

struct IngressBackend {
  std::optional<IngressServiceBackend> service;
  std::optional<TypedLocalObjectReference> resource;  // not supported by Portico: reported
  bool operator==(const IngressBackend&) const = default;
};

enum class PathType { Exact, Prefix, ImplementationSpecific };
const char* pathTypeName(PathType type);

struct HttpIngressPath {
  std::string path;  // empty allowed only for ImplementationSpecific (means "/")
  PathType path_type = PathType::Prefix;
  IngressBackend backend;
};

struct IngressRule {
  std::string host;  // empty: every host
  std::vector<HttpIngressPath> paths;
};

struct IngressTls {
  std::vector<std::string> hosts;
  std::string secret_name;
};

struct IngressSpec {
  std::optional<std::string> ingress_class_name;
  std::optional<IngressBackend> default_backend;
  std::vector<IngressTls> tls;
  std::vector<IngressRule> rules;
};

struct Ingress {
  ObjectMeta metadata;
  IngressSpec spec;
  std::vector<LoadBalancerIngress> status_load_balancer;
};

struct IngressClassParameters {
  std::string api_group;
  std::string kind;
  std::string name;
  std::string scope;  // "Cluster" (default) or "Namespace"
  std::string namespace_;
};

struct IngressClass {
  ObjectMeta metadata;
  std::string controller;
  std::optional<IngressClassParameters> parameters;
  // ingressclass.kubernetes.io/is-default-class: "true"
  bool isDefault() const {
    return metadata.annotation("ingressclass.kubernetes.io/is-default-class") == "true";
  }
};

void from_json(const Json& j, ServiceBackendPort& out);
void to_json(Json& j, const ServiceBackendPort& in);
void from_json(const Json& j, IngressBackend& out);
void to_json(Json& j, const IngressBackend& in);
void from_json(const Json& j, Ingress& out);
void to_json(Json& j, const Ingress& in);
void from_json(const Json& j, IngressClass& out);
void to_json(Json& j, const IngressClass& in);

}  // namespace portico::crds
