// Resource: a group/version/resource and its scope, and the REST paths built from it.
#pragma once

#include <compare>
#include <string>

#include "operator/base/object_key.h"

namespace portico::kube {

struct Resource {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // lower-case plural, e.g. "configmaps"
  bool namespaced = true;

  auto operator<=>(const Resource&) const = default;
  bool operator==(const Resource&) const = default;

  // The apiVersion field of objects of this resource: "v1" or "group/version".
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }

  // /api/v1/namespaces/ns/configmaps, /apis/g/v/resources (all namespaces when ns is empty).
  std::string collectionPath(const std::string& ns) const {
    std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
    if (namespaced && !ns.empty()) path += "/namespaces/" + ns;
    return path + "/" + resource;
  }

  std::string objectPath(const ObjectKey& key) const {
    return collectionPath(namespaced ? key.namespace_ : "") + "/" + key.name;
  }

  std::string toString() const {
    return resource + "." + (group.empty() ? "core" : group) + "/" + version;
  }
};

namespace resources {
inline Resource configMaps() {
  return {"", "v1", "configmaps", true};
}
inline Resource secrets() {
  return {"", "v1", "secrets", true};
}
inline Resource services() {
  return {"", "v1", "services", true};
}
inline Resource events() {
  return {"", "v1", "events", true};
}
inline Resource namespaces() {
  return {"", "v1", "namespaces", false};
}
inline Resource leases() {
  return {"coordination.k8s.io", "v1", "leases", true};
}
inline Resource ingresses() {
  return {"networking.k8s.io", "v1", "ingresses", true};
}
inline Resource ingressClasses() {
  return {"networking.k8s.io", "v1", "ingressclasses", false};
}
inline Resource customResourceDefinitions() {
  return {"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
}
}  // namespace resources

}  // namespace portico::kube
